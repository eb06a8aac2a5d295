//! A strict reader of the Prometheus text format (0.0.4), for the tests of
//! `GET /metrics`: every line a `# HELP`, a `# TYPE` or a sample of a
//! declared family; no series twice; histograms checked for cumulative
//! buckets whose `+Inf` is the count.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::{poll, Progress, TestNode, PASSWORD};

/// Scrapes `GET /metrics` of `node` (as the administrator, or with the API
/// key `bearer`) and reads it strictly: 200, the text format's content
/// type, every line well formed, histograms consistent.
pub async fn scrape(node: &TestNode, bearer: Option<&str>) -> Exposition {
    let req = node.http.get(node.url("/metrics"));
    let req = match bearer {
        Some(key) => req.bearer_auth(key),
        None => req.basic_auth("isadmin", Some(PASSWORD)),
    };
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    let e = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    e.check_histograms().unwrap_or_else(|e| panic!("{e}\n{text}"));
    e
}

/// Scrapes until `want` holds of the exposition (`what` names it should
/// `within` pass first).
pub async fn scrape_until(
    node: &TestNode,
    bearer: Option<&str>,
    within: Duration,
    what: &str,
    want: impl Fn(&Exposition) -> bool,
) -> Exposition {
    poll(within, async || {
        let e = scrape(node, bearer).await;
        Ok(if want(&e) {
            Progress::Done(e)
        } else {
            Progress::NotYet(format!("{what}: {:?}", e.series))
        })
    })
    .await
    .unwrap()
}

/// A parsed exposition: each series (`name{a="x",b="y"}`, labels sorted)
/// and its value, and each family's type.
#[derive(Debug, Default)]
pub struct Exposition {
    pub series: BTreeMap<String, f64>,
    pub types: BTreeMap<String, String>,
}

impl Exposition {
    /// The value of a series given by name and labels, if present.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.series.get(&series_key(name, labels)).copied()
    }

    /// The value of the single unlabelled sample of `name`; panics without one.
    pub fn one(&self, name: &str) -> f64 {
        self.get(name, &[])
            .unwrap_or_else(|| panic!("no sample of {name}"))
    }

    /// Checks every histogram of the exposition: its buckets are
    /// cumulative, end at `+Inf`, which equals its `_count`, and it has a
    /// `_sum`. Answers how many histogram series there are.
    pub fn check_histograms(&self) -> Result<usize, String> {
        let mut checked = 0;
        for (family, kind) in &self.types {
            if kind != "histogram" {
                continue;
            }
            // Buckets grouped by their labels other than `le`.
            let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            let prefix = format!("{family}_bucket{{");
            for (key, value) in self.series.range(prefix.clone()..) {
                let Some(labels) = key.strip_prefix(&prefix) else {
                    break;
                };
                let labels = labels.trim_end_matches('}');
                let (mut rest, mut le) = (Vec::new(), None);
                for pair in labels.split(",") {
                    match pair.strip_prefix("le=") {
                        Some(v) => le = Some(v.trim_matches('"').to_string()),
                        None => rest.push(pair),
                    }
                }
                let le = le.ok_or(format!("{key}: a bucket without le"))?;
                let le: f64 = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().map_err(|_| format!("{key}: bad le"))?
                };
                series.entry(rest.join(",")).or_default().push((le, *value));
            }
            for (labels, mut buckets) in series {
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                if !buckets.windows(2).all(|w| w[0].1 <= w[1].1) {
                    return Err(format!(
                        "{family}{{{labels}}}: buckets not cumulative: {buckets:?}"
                    ));
                }
                let inf = buckets.last().filter(|b| b.0.is_infinite()).map(|b| b.1);
                let suffixed = |s: &str| {
                    let key = if labels.is_empty() {
                        format!("{family}{s}")
                    } else {
                        format!("{family}{s}{{{labels}}}")
                    };
                    self.series.get(&key).copied()
                };
                let count = suffixed("_count").ok_or(format!("{family}{{{labels}}}: no _count"))?;
                suffixed("_sum").ok_or(format!("{family}{{{labels}}}: no _sum"))?;
                if inf != Some(count) {
                    return Err(format!(
                        "{family}{{{labels}}}: +Inf bucket {inf:?} is not the count {count}"
                    ));
                }
                checked += 1;
            }
        }
        Ok(checked)
    }
}

pub fn series_key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<_> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    labels.sort();
    if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'));
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses the text format strictly; any line that does not fit is an error.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut helped = BTreeSet::new();
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if !is_name(name, true) || !helped.insert(name.to_string()) {
                return Err(bad("a HELP of a bad or repeated name"));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| bad("a TYPE without a type"))?;
            let known = ["counter", "gauge", "histogram", "summary", "untyped"];
            if !is_name(name, true) || !known.contains(&kind) {
                return Err(bad("a bad TYPE"));
            }
            if out.types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(bad("a second TYPE for one family"));
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(bad("a comment or blank line the endpoint should not write"));
        } else {
            let (key, name, value) = sample(line).map_err(|why| bad(&why))?;
            // A histogram's samples are its name with a suffix.
            let histogram = ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|s| name.strip_suffix(s))
                .any(|family| out.types.get(family).is_some_and(|k| k == "histogram"));
            if !histogram && !out.types.contains_key(&name) {
                return Err(bad("a sample before its family's TYPE"));
            }
            if out.series.insert(key, value).is_some() {
                return Err(bad("a series given twice"));
            }
        }
    }
    Ok(out)
}

/// One sample line: its series key (labels sorted), its name and value.
fn sample(line: &str) -> Result<(String, String, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err("a bad metric name".into());
    }
    let mut rest = &line[name_end..];
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            let (label, after) = rest.split_once("=\"").ok_or("a label without =\"")?;
            if !is_name(label, false) || labels.iter().any(|(l, _)| l == label) {
                return Err(format!("a bad or repeated label name {label:?}"));
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().ok_or("an unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("a dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("an unknown escape \\{c}")),
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_string(), value));
            rest = &after[end + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            } else {
                return Err("labels not separated by , or closed by }".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value: f64 = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| format!("a bad value {v:?}"))?,
    };
    let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok((series_key(name, &pairs), name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_is_strict() {
        let good = "# HELP a_b x\n# TYPE a_b gauge\na_b{q=\"x\\\"y\",r=\"\"} 2\na_b 1.5\n";
        let e = parse(good).unwrap();
        assert_eq!(e.get("a_b", &[("r", ""), ("q", "x\"y")]), Some(2.0));
        assert_eq!(e.one("a_b"), 1.5);
        for bad in [
            "a_b 1\n",                                    // no TYPE
            "# TYPE a_b gauge\na_b 1",                    // no final newline
            "# TYPE a_b gauge\na_b{q=\"x} 1\n",           // unterminated
            "# TYPE a_b gauge\na_b{q=\"x\"} one\n",       // not a number
            "# TYPE a_b gauge\na_b 1\na_b 2\n",           // twice
            "# TYPE a_b gauge\n\na_b 1\n",                // blank line
            "# TYPE a_b gauge\na_b{1q=\"x\"} 1\n",        // bad label name
            "# TYPE a_b gauge\na_b{q=\"x\",q=\"y\"} 1\n", // repeated label
            "# TYPE a-b gauge\n",                         // bad name
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    /// The parser and `series_key` agree on how a series is named.
    #[test]
    fn histograms_are_checked() {
        let head = "# TYPE h histogram\n";
        let good = "h_bucket{q=\"a\",le=\"1\"} 1\nh_bucket{q=\"a\",le=\"+Inf\"} 2\n\
                    h_sum{q=\"a\"} 3\nh_count{q=\"a\"} 2\n";
        assert_eq!(parse(&format!("{head}{good}")).unwrap().check_histograms(), Ok(1));
        for bad in [
            // not cumulative
            "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
            // +Inf is not the count
            "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
            // no _sum
            "h_bucket{le=\"+Inf\"} 2\nh_count 2\n",
        ] {
            let e = parse(&format!("{head}{bad}")).unwrap();
            assert!(e.check_histograms().is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn series_keys_sort_labels() {
        assert_eq!(series_key("m", &[("b", "2"), ("a", "1")]), "m{a=\"1\",b=\"2\"}");
    }
}
