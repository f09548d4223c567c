//! Ages as Kubernetes prints them (`5m`, `3h12m`, `2d`), the rules of apimachinery's
//! `HumanDuration`.

/// The age of an RFC 3339 time stamp, now.
pub fn since(timestamp: &str) -> String {
    match time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339) {
        Ok(t) => human((time::OffsetDateTime::now_utc() - t).whole_seconds()),
        Err(_) => "<invalid>".to_string(),
    }
}

/// A duration in seconds, in Kubernetes' short human form.
pub fn human(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;
    let s = seconds;
    if s < -1 {
        return "<invalid>".into();
    }
    let s = s.max(0);
    let pair = |a: i64, ua: &str, b: i64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua}{b}{ub}")
        }
    };
    if s < 2 * MINUTE {
        format!("{s}s")
    } else if s < 10 * MINUTE {
        pair(s / MINUTE, "m", s % MINUTE, "s")
    } else if s < 3 * HOUR {
        format!("{}m", s / MINUTE)
    } else if s < 8 * HOUR {
        pair(s / HOUR, "h", (s % HOUR) / MINUTE, "m")
    } else if s < 2 * DAY {
        format!("{}h", s / HOUR)
    } else if s < 8 * DAY {
        pair(s / DAY, "d", (s % DAY) / HOUR, "h")
    } else if s < 2 * YEAR {
        format!("{}d", s / DAY)
    } else if s < 8 * YEAR {
        pair(s / YEAR, "y", (s % YEAR) / DAY, "d")
    } else {
        format!("{}y", s / YEAR)
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn prints_like_kubernetes() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(119), "119s");
        assert_eq!(human(125), "2m5s");
        assert_eq!(human(300), "5m");
        assert_eq!(human(3 * 3600 + 120), "3h2m");
        assert_eq!(human(9 * 3600), "9h");
        assert_eq!(human(3 * 86400 + 3600), "3d1h");
        assert_eq!(human(30 * 86400), "30d");
        assert_eq!(human(3 * 365 * 86400), "3y");
        assert_eq!(human(-5), "<invalid>");
    }
}
