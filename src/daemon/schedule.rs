//! The cron schedule of the daemon: 6 fields with seconds, UTC. Parsed once, when the config is
//! read, by the one parser (croner, with the settings tokio-cron-scheduler gives it when it fires
//! the ticks), so the next time shown in `status` and the period used for missed-run catch-up
//! agree with when ticks really fire.

use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
}

/// A schedule that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("`{expr}`: {message}")]
pub struct ScheduleError {
    pub expr: String,
    pub message: String,
}

impl Schedule {
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        let error = |message: String| ScheduleError {
            expr: expr.to_owned(),
            message,
        };
        let fields = expr.split_whitespace().count();
        if fields != 6 {
            return Err(error(format!(
                "has {fields} fields; stagesync uses 6 (sec min hour day month weekday, UTC), e.g. \"0 */15 * * * *\""
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expr)
            .map_err(|e| error(format!("not a valid cron expression ({e})")))?;
        let schedule = Schedule {
            expr: expr.to_owned(),
            cron,
        };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(ScheduleError {
                expr: expr.to_owned(),
                message: "never fires again; use a recurring expression such as \"0 */15 * * * *\""
                    .into(),
            });
        }
        Ok(schedule)
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The gap between the next two fire times after `t`: what "one period" means for catch-up.
    pub fn period_after(&self, t: DateTime<Utc>) -> Option<Duration> {
        let first = self.next_after(t)?;
        let second = self.next_after(first)?;
        (second - first).to_std().ok()
    }

    /// Whether a daemon starting at `now` missed a run: no success ever, or the last success
    /// is older than one period.
    pub fn missed_run(&self, last_success_ms: Option<i64>, now: DateTime<Utc>) -> bool {
        let Some(last) = last_success_ms else {
            return true;
        };
        let Some(period) = self.period_after(now) else {
            return false;
        };
        let age_ms = now.timestamp_millis().saturating_sub(last);
        age_ms > period.as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn period_and_next_of_a_regular_schedule() {
        let s = Schedule::parse("0 */15 * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 7, 3).unwrap();
        assert_eq!(
            s.next_after(t),
            Some(Utc.with_ymd_and_hms(2024, 5, 1, 10, 15, 0).unwrap())
        );
        assert_eq!(s.period_after(t), Some(Duration::from_secs(900)));
    }

    #[test]
    fn missed_run_is_judged_against_one_period() {
        let s = Schedule::parse("0 0 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap();
        let ms = |h, m| {
            Utc.with_ymd_and_hms(2024, 5, 1, h, m, 0)
                .unwrap()
                .timestamp_millis()
        };
        assert!(s.missed_run(None, now));
        assert!(!s.missed_run(Some(ms(10, 0)), now));
        assert!(!s.missed_run(Some(ms(9, 31)), now));
        assert!(s.missed_run(Some(ms(9, 29)), now));
    }

    #[test]
    fn five_fields_and_garbage_are_refused_with_the_expression_named() {
        for bad in ["*/5 * * * *", "61 * * * * *", "every minute please ok ok"] {
            let err = Schedule::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }
}
