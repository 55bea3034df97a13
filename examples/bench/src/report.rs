//! What the benchmark prints: the median and spread of repeats, numbers in a readable form,
//! and one table per scenario.

/// The median of repeated measurements, and their range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Stats {
    /// Of `values` (not empty).
    pub(crate) fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Self {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }

    /// Formatted with `f`: `median (min–max)`, or just the median for a single value.
    pub(crate) fn show(&self, f: impl Fn(f64) -> String) -> String {
        if self.min == self.max {
            f(self.median)
        } else {
            format!("{} ({}–{})", f(self.median), f(self.min), f(self.max))
        }
    }
}

/// `n` with a comma between thousands: 10,000.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per second, to the hundred from 10,000 up: 512,300.
pub(crate) fn rate(per_sec: f64) -> String {
    let n = per_sec.max(0.0).round() as u64;
    thousands(if n >= 10_000 { (n + 50) / 100 * 100 } else { n })
}

/// Nanoseconds as microseconds to the tenth (10.2 µs), or from a millisecond up as
/// milliseconds to the hundredth (3.20 ms).
pub(crate) fn micros(nanos: f64) -> String {
    if nanos < 999_950.0 {
        format!("{:.1} µs", nanos / 1e3)
    } else {
        format!("{:.2} ms", nanos / 1e6)
    }
}

/// Milliseconds, to the tenth below 100: 12.3 ms.
pub(crate) fn millis(ms: f64) -> String {
    if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A ratio: 1.08x.
pub(crate) fn ratio(r: f64) -> String {
    format!("{r:.2}x")
}

/// One scenario's table: a header whose first cell is the title, rows of cells, notes below.
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Prints it, columns aligned, rows indented under the title, then a blank line.
    pub(crate) fn print(&self) {
        for line in self.lines() {
            println!("{line}");
        }
        println!();
    }

    fn lines(&self) -> Vec<String> {
        let indent = |i: usize| if i == 0 { 0 } else { 2 };
        let all = std::iter::once(&self.header).chain(&self.rows);
        let mut widths: Vec<usize> = Vec::new();
        for (r, cells) in all.clone().enumerate() {
            for (c, cell) in cells.iter().enumerate() {
                let w = cell.chars().count() + if c == 0 { indent(r) } else { 0 };
                if widths.len() <= c {
                    widths.push(w);
                } else {
                    widths[c] = widths[c].max(w);
                }
            }
        }
        let mut out: Vec<String> = all
            .enumerate()
            .map(|(r, cells)| {
                let mut line = " ".repeat(indent(r));
                for (c, cell) in cells.iter().enumerate() {
                    line.push_str(cell);
                    let used = cell.chars().count() + if c == 0 { indent(r) } else { 0 };
                    if c + 1 < cells.len() {
                        line.push_str(&" ".repeat(widths[c] - used + 3));
                    }
                }
                line.trim_end().to_owned()
            })
            .collect();
        out.extend(self.notes.iter().map(|n| format!("  ({n})")));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Stats, Table, micros, rate, thousands};

    #[test]
    fn takes_the_middle_and_the_range() {
        assert_eq!(
            Stats::of(&[3.0, 1.0, 2.0]),
            Stats {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Stats::of(&[1.0, 3.0, 5.0, 9.0]).median, 4.0);
        assert_eq!(Stats::of(&[7.0]).show(|v| format!("{v}")), "7");
    }

    #[test]
    fn separates_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(200), "200");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(rate(512_349.0), "512,300");
        assert_eq!(rate(9_876.4), "9,876");
        assert_eq!(micros(10_240.0), "10.2 µs");
        assert_eq!(micros(3_198_700.0), "3.20 ms");
    }

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&["title", "a", "b"]);
        t.row(vec!["row".into(), "1,000".into(), "x".into()]);
        t.row(vec!["µ".into(), "2".into()]);
        t.note("n");
        assert_eq!(
            t.lines(),
            [
                "title   a       b",
                "  row   1,000   x",
                "  µ     2",
                "  (n)"
            ]
        );
    }
}
