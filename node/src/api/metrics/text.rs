//! The Prometheus text exposition format (version 0.0.4), written by hand:
//! a `# HELP` and `# TYPE` line per family, then one `name{labels} value`
//! line per sample. Pure; no IO.

use std::fmt::Write as _;

use crate::util::histogram::Histogram;

/// The content type of the format, for the answer's header.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's type, as `# TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// An exposition being written, family by family.
#[derive(Debug, Default)]
pub struct Text {
    out: String,
}

impl Text {
    /// Starts a family: its help text and type. Samples of it follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
    }

    /// One sample of the family started last.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{label}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
    }

    /// One histogram of the family started last: its `_bucket` samples
    /// (cumulative, with an `le` label after `labels`), `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let bucket = format!("{name}_bucket");
        for (le, n) in h.cumulative() {
            let le = number(le);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, n as f64);
        }
        self.sample(&format!("{name}_sum"), labels, h.sum());
        self.sample(&format!("{name}_count"), labels, h.count() as f64);
    }

    /// A family with a single unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A value as the format spells it: whole numbers without a fraction,
/// `NaN`, `+Inf` and `-Inf` by name.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_and_samples() {
        let mut t = Text::default();
        t.family("is_runs", Kind::Gauge, "runs\nnot finished \\ yet");
        t.sample("is_runs", &[("application", "a"), ("state", "STARTED")], 2.0);
        t.single("is_raft_term", Kind::Counter, "the term", 7.0);
        assert_eq!(
            t.finish(),
            "# HELP is_runs runs\\nnot finished \\\\ yet\n# TYPE is_runs gauge\n\
             is_runs{application=\"a\",state=\"STARTED\"} 2\n\
             # HELP is_raft_term the term\n# TYPE is_raft_term counter\nis_raft_term 7\n"
        );
    }

    #[test]
    fn histograms_have_cumulative_buckets_a_sum_and_a_count() {
        let mut h = Histogram::new(&[0.5, 1.0]);
        h.observe(0.25);
        h.observe(2.0);
        let mut t = Text::default();
        t.histogram("d", &[("q", "a")], &h);
        assert_eq!(
            t.finish(),
            "d_bucket{q=\"a\",le=\"0.5\"} 1\nd_bucket{q=\"a\",le=\"1\"} 1\n\
             d_bucket{q=\"a\",le=\"+Inf\"} 2\nd_sum{q=\"a\"} 2.25\nd_count{q=\"a\"} 2\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut t = Text::default();
        t.sample("m", &[("l", "a\"b\\c\nd")], 1.0);
        assert_eq!(t.finish(), "m{l=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn numbers_are_spelled_as_the_format_wants() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(12345678.0), "12345678");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(1e20), "100000000000000000000");
    }
}
