//! Size limits of uploaded applications. They guard the node against
//! pathological documents (a run of an application is built while the
//! replicated state is locked) and are a node setting, not a rule of the
//! document: [`Application::validate`] ignores them, because stored
//! applications are validated again whenever the log is decoded.

use super::{edges, Application};
use crate::model::ModelError;
use crate::util::number::thousands;

/// The largest application a node accepts at upload
/// (`max_app_steps`, `max_app_edges` in the node settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    pub max_steps: usize,
    /// Distinct (upstream, downstream) pairs, as [`edges`] counts them.
    pub max_edges: usize,
}

impl AppLimits {
    pub const DEFAULT_MAX_STEPS: usize = 2_000;
    pub const DEFAULT_MAX_EDGES: usize = 20_000;
}

impl Default for AppLimits {
    fn default() -> AppLimits {
        AppLimits {
            max_steps: AppLimits::DEFAULT_MAX_STEPS,
            max_edges: AppLimits::DEFAULT_MAX_EDGES,
        }
    }
}

impl Application {
    /// Whether this node takes the application: at most `limits.max_steps`
    /// steps and `limits.max_edges` edges. Every limit exceeded is named,
    /// with the count and the setting that raises it. O(steps + edges).
    pub fn check_limits(&self, limits: &AppLimits) -> Result<(), ModelError> {
        let mut problems = Vec::new();
        let steps = self.steps.len();
        if steps > limits.max_steps {
            problems.push(self.over_limit(steps, "steps", limits.max_steps, "max_app_steps"));
        }
        // The raw entries bound the distinct pairs: count those only when needed.
        let entries: usize = self
            .steps
            .iter()
            .map(|s| s.output_to.len() + s.data_from.len())
            .sum();
        if entries > limits.max_edges {
            let edges = edges(&self.steps).len();
            if edges > limits.max_edges {
                problems.push(self.over_limit(edges, "edges", limits.max_edges, "max_app_edges"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::OverLimit { problems })
        }
    }

    fn over_limit(&self, count: usize, noun: &str, max: usize, setting: &str) -> String {
        format!(
            "application {:?} has {} {noun}; this node accepts at most {} ({setting})",
            self.name,
            thousands(count as u64),
            thousands(max as u64)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::application::fixtures;

    fn big_app(steps: usize, edges: usize) -> serde_json::Value {
        fixtures::big_app(steps, edges).0
    }

    fn limits(max_steps: usize, max_edges: usize) -> AppLimits {
        AppLimits { max_steps, max_edges }
    }

    #[test]
    fn too_many_steps_is_refused_naming_the_limit() {
        let app = Application::validate(big_app(2345, 0)).unwrap();
        let err = app.check_limits(&AppLimits::default()).unwrap_err();
        assert_eq!(
            err,
            ModelError::OverLimit {
                problems: vec![
                    "application \"big\" has 2,345 steps; this node accepts at most 2,000 (max_app_steps)"
                        .to_string()
                ]
            }
        );
        assert_eq!(
            err.to_string(),
            "application \"big\" has 2,345 steps; this node accepts at most 2,000 (max_app_steps)"
        );
    }

    #[test]
    fn too_many_edges_is_refused_naming_the_limit() {
        let app = Application::validate(big_app(10, 12)).unwrap();
        assert_eq!(edges(&app.steps).len(), 12, "duplicates count once");
        let err = app.check_limits(&limits(10, 11)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "application \"big\" has 12 edges; this node accepts at most 11 (max_app_edges)"
        );
    }

    #[test]
    fn both_limits_exceeded_are_both_named() {
        let app = Application::validate(big_app(5, 4)).unwrap();
        let ModelError::OverLimit { problems } = app.check_limits(&limits(4, 3)).unwrap_err() else {
            panic!("expected OverLimit")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("(max_app_steps)"), "{problems:?}");
        assert!(problems[1].contains("(max_app_edges)"), "{problems:?}");
    }

    #[test]
    fn duplicate_entries_under_the_limit_are_accepted() {
        // 6 entries, 3 distinct edges: a limit of 3 holds.
        let app = Application::validate(big_app(4, 3)).unwrap();
        assert_eq!(app.check_limits(&limits(4, 3)), Ok(()));
    }

    #[test]
    fn an_application_exactly_at_the_default_limits_is_accepted() {
        let app = Application::validate(big_app(2000, 20000)).unwrap();
        assert_eq!(app.steps.len(), 2000);
        assert_eq!(edges(&app.steps).len(), 20000);
        assert_eq!(app.check_limits(&AppLimits::default()), Ok(()));
        assert!(app.check_limits(&limits(1999, 20000)).is_err());
        assert!(app.check_limits(&limits(2000, 19999)).is_err());
    }
}
