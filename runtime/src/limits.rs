//! Process resource limits: every watch and connection holds a file
//! descriptor, and the usual soft limit of 1,024 open files is far below
//! what thousands of clients need. Go programs (kube-apiserver among them)
//! raise the soft limit to the hard one at startup; this does the same.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit and returns the
/// limit now in force (`None` meaning unlimited). When it cannot be raised
/// the old limit stays and is returned.
pub fn raise_open_files() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return limit.current;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(_) => limit.current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_reaches_the_hard_limit() {
        let now = raise_open_files();
        let limit = getrlimit(Resource::Nofile);
        assert_eq!(now, limit.current);
        assert_eq!(limit.current, limit.maximum);
    }
}
