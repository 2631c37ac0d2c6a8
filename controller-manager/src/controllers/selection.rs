//! `--controllers`: `*` turns on every controller, `name` turns one on,
//! `-name` turns one off (the explicit forms win over `*`). Names are
//! upstream's: the short flag names ("deployment", "garbagecollector") and
//! the canonical ones ("deployment-controller",
//! "garbage-collector-controller") are both accepted.

/// A name in `--controllers` that matches no controller.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not in the list of known controllers")]
pub struct UnknownController(pub String);

/// Old upstream flag names that are not simply the canonical name without
/// dashes and the `-controller` suffix.
const ALIASES: &[(&str, &str)] = &[
    ("endpoint", "endpoints"),
    ("podgc", "pod-garbage-collector"),
    ("ttl-after-finished", "ttl-after-finished"),
    ("serviceaccount-token", "serviceaccount-token"),
    ("cronjob", "cronjob"),
];

fn squash(name: &str) -> String {
    name.trim_end_matches("-controller").replace('-', "")
}

/// Whether `given` (from the flag) names the controller `known`.
fn names(known: &str, given: &str) -> bool {
    if known == given || squash(known) == squash(given) {
        return true;
    }
    ALIASES
        .iter()
        .any(|(alias, target)| *alias == given && squash(target) == squash(known))
}

/// The controllers of `known` that the flag values turn on.
pub fn enabled_controllers<'a>(
    known: &[&'a str],
    flag: &[String],
) -> Result<Vec<&'a str>, UnknownController> {
    let flag: Vec<&str> = flag
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    for item in &flag {
        let name = item.trim_start_matches('-');
        if *item != "*" && !known.iter().any(|k| names(k, name)) {
            return Err(UnknownController(name.to_string()));
        }
    }
    let star = flag.contains(&"*");
    Ok(known
        .iter()
        .copied()
        .filter(|k| {
            if flag
                .iter()
                .any(|f| f.strip_prefix('-').is_some_and(|n| names(k, n)))
            {
                return false;
            }
            star || flag.iter().any(|f| !f.starts_with('-') && names(k, f))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &[
        "deployment",
        "replicaset",
        "endpoints",
        "garbage-collector",
        "pod-garbage-collector",
        "nodeipam",
    ];

    fn run(flag: &[&str]) -> Result<Vec<&'static str>, UnknownController> {
        let flag: Vec<String> = flag.iter().map(|s| s.to_string()).collect();
        enabled_controllers(KNOWN, &flag)
    }

    #[test]
    fn star_minus_and_names() {
        assert_eq!(run(&["*"]).unwrap(), KNOWN.to_vec());
        assert_eq!(
            run(&["*", "-nodeipam", "-garbagecollector"]).unwrap(),
            vec![
                "deployment",
                "replicaset",
                "endpoints",
                "pod-garbage-collector"
            ]
        );
        assert_eq!(run(&["deployment"]).unwrap(), vec!["deployment"]);
        assert_eq!(
            run(&["deployment-controller", "endpoint"]).unwrap(),
            vec!["deployment", "endpoints"]
        );
        assert_eq!(run(&["podgc"]).unwrap(), vec!["pod-garbage-collector"]);
        assert_eq!(run(&["-deployment"]).unwrap(), Vec::<&str>::new());
        assert_eq!(run(&[]).unwrap(), Vec::<&str>::new());
        assert_eq!(
            run(&["*", "-bogus"]),
            Err(UnknownController("bogus".into()))
        );
        assert_eq!(run(&["nope"]), Err(UnknownController("nope".into())));
    }
}
