//! Tests of the report renderers, on documents shaped as the node answers
//! them.

use serde_json::json;

use super::*;

/// A report of run isapp-1 of "inventory": a titled section with a
/// sub-report (itself with one), and a section without row titles.
fn report() -> Value {
    json!({
        "id": "report-inventory-isapp-1", "app_name": "inventory", "application_id": "isapp-1",
        "created": 1_700_000_000.5,
        "sections": [
            {
                "report_id": "report-inventory-isapp-1", "name": "Devices", "app_name": "inventory",
                "section": "summary", "flag": "warning", "step": "Count",
                "columns": [{"title": "Count", "data_key": "n"}, {"title": "Details", "data_key": "d"}],
                "rows": [
                    {"title": "routers", "cells": {"n": 3, "d": {"vendor": "x"}}},
                    {"title": "switches", "cells": {"n": 12, "d": null}},
                    {"title": null, "cells": {"n": 15}}
                ],
                "sub_reports": [{
                    "report_id": "report-inventory-isapp-1", "name": "Routers", "app_name": "inventory",
                    "section": "summary", "flag": "", "step": null,
                    "columns": [{"title": "Name", "data_key": "name"}, {"title": "Up", "data_key": "up"}],
                    "rows": [{"title": null, "cells": {"name": "r1", "up": true}},
                             {"title": null, "cells": {"name": "r2", "up": false}}],
                    "sub_reports": [{
                        "name": "Down", "columns": [], "rows": [], "sub_reports": []
                    }]
                }]
            },
            {
                "report_id": "report-inventory-isapp-1", "name": "Errors", "app_name": "inventory",
                "section": null, "flag": null, "step": "Store",
                "columns": [{"title": "Message", "data_key": "msg"}, {"title": "", "data_key": "code"}],
                "rows": [{"cells": {"msg": "timeout", "code": 504}}, {"cells": {"msg": ""}}],
                "sub_reports": []
            }
        ]
    })
}

#[test]
fn the_list_has_one_line_per_report_and_the_next_cursor() {
    let reports = [
        json!({"id": "report-a-isapp-1", "app_name": "a", "application_id": "isapp-1", "created": 1_700_000_000}),
        json!({"id": "report-bb-isapp-2", "app_name": "bb", "application_id": "isapp-2"}),
    ];
    let table = "ID                 APPLICATION  RUN      CREATED\n\
                 report-a-isapp-1   a            isapp-1  2023-11-14 22:13:20 UTC\n\
                 report-bb-isapp-2  bb           isapp-2  -\n";
    assert_eq!(report_table(&reports, None), table);
    assert_eq!(
        report_table(&reports, Some("c-2")),
        format!("{table}(more reports follow: repeat with --cursor c-2 for the next page, or with --all)\n")
    );
    assert_eq!(report_table(&[], None), "(no reports)\n");
}

#[test]
fn the_report_shows_its_details_then_its_sections_as_tables() {
    assert_eq!(
        report_sheet(&report()),
        "Report:       report-inventory-isapp-1\n\
         Application:  inventory\n\
         Run:          isapp-1\n\
         Created:      2023-11-14 22:13:20 UTC\n\
         \n\
         Devices (section: summary, flag: warning, step: Count)\n\
         \x20           Count  Details\n\
         \x20 routers   3      {\"vendor\":\"x\"}\n\
         \x20 switches  12     null\n\
         \x20 -         15     -\n\
         \n\
         \x20 Routers (section: summary)\n\
         \x20   Name  Up\n\
         \x20   r1    true\n\
         \x20   r2    false\n\
         \n\
         \x20   Down\n\
         \x20     (no rows)\n\
         \n\
         Errors (step: Store)\n\
         \x20 Message  code\n\
         \x20 timeout  504\n\
         \x20 -        -\n"
    );
}

#[test]
fn bare_reports_and_sections_show_dashes() {
    assert_eq!(
        report_sheet(&json!({"id": "report-x"})),
        "Report:       report-x\nApplication:  -\nRun:          -\nCreated:      -\nSections:     (none)\n"
    );
    let odd = json!({"sections": [
        {"rows": [{"cells": {"a": 1}}]},
        {"name": "Only titles", "columns": [], "rows": [{"title": "x", "cells": {}}]}
    ]});
    let text = report_sheet(&odd);
    assert!(
        text.contains("\n(unnamed section)\n  (1 row(s), no columns)\n"),
        "{text}"
    );
    assert!(text.ends_with("\nOnly titles\n  x\n"), "{text}");
}
