//! Column-aligned tables as scripts and people read them: no borders, left
//! aligned cells, two spaces between columns, no trailing spaces. The
//! layout (column widths by display width) is comfy-table's; this module
//! only configures it to look like the plain tables iscli always printed.

use comfy_table::presets::NOTHING;
use comfy_table::Table;

/// The space between two columns.
const GAP: u16 = 2;

/// Left-aligned columns under a header line, separated by two spaces; no
/// trailing spaces. Cells beyond the headers are dropped.
pub(crate) fn table<R: AsRef<[String]>>(headers: &[&str], rows: &[R]) -> String {
    let mut layout = plain();
    layout.set_header(headers.to_vec());
    layout.add_rows(rows.iter().map(|row| {
        row.as_ref()
            .iter()
            .take(headers.len())
            .cloned()
            .collect::<Vec<_>>()
    }));
    render(layout, "")
}

/// Rows of cells in left-aligned columns separated by two spaces, each line
/// starting with `indent`; no header, no trailing spaces.
pub(crate) fn aligned(rows: &[Vec<String>], indent: &str) -> String {
    let mut layout = plain();
    layout.add_rows(rows.iter().cloned());
    render(layout, indent)
}

/// A table without any border, line or junction.
fn plain() -> Table {
    let mut layout = Table::new();
    layout.load_style(NOTHING);
    layout
}

/// The table's lines, each after `indent` and ending in a newline. The gap
/// is the right padding of every column but the last, so that no line
/// starts or ends with padding; what trailing space remains (a short last
/// cell is padded to its column's width) is cut.
fn render(mut layout: Table, indent: &str) -> String {
    let last = layout.column_count().saturating_sub(1);
    for column in layout.column_iter_mut() {
        let right = if column.index == last { 0 } else { GAP };
        column.set_padding((0, right));
    }
    layout
        .lines()
        .map(|line| format!("{indent}{}\n", line.trim_end()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_plus_two_spaces() {
        let rows = [row(&["a", "long value", "x"]), row(&["longer name", "b", ""])];
        assert_eq!(
            table(&["NAME", "VALUE", "NOTE"], &rows),
            "NAME         VALUE       NOTE\n\
             a            long value  x\n\
             longer name  b\n"
        );
    }

    #[test]
    fn extra_cells_are_dropped_and_missing_ones_left_blank() {
        let rows = [row(&["1", "2", "3"]), row(&["4"])];
        assert_eq!(table(&["A", "B"], &rows), "A  B\n1  2\n4\n");
        assert_eq!(table::<Vec<String>>(&["ONLY"], &[]), "ONLY\n");
    }

    #[test]
    fn aligned_rows_have_no_header_and_start_with_the_indent() {
        let rows = vec![
            row(&["Fetch", "SUCCESS", ""]),
            row(&["Store", "FAILURE (attempt 3)", "boom"]),
        ];
        assert_eq!(
            aligned(&rows, "  "),
            "  Fetch  SUCCESS\n  Store  FAILURE (attempt 3)  boom\n"
        );
        assert_eq!(aligned(&[], "  "), "");
    }

    #[test]
    fn wide_characters_count_by_their_width_on_screen() {
        // A CJK character takes two columns in a terminal.
        let rows = [row(&["日本", "x"]), row(&["ab", "y"])];
        assert_eq!(table(&["N", "V"], &rows), "N     V\n日本  x\nab    y\n");
    }
}
