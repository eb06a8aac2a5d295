import { describe, expect, it } from "vitest";
import { CRON_PRESETS, describeSchedule, every } from "./schedule";

describe("every", () => {
  it("says a number of seconds in the largest whole unit", () => {
    expect(every(1)).toBe("1 second");
    expect(every(45)).toBe("45 seconds");
    expect(every(60)).toBe("1 minute");
    expect(every(90)).toBe("90 seconds");
    expect(every(900)).toBe("15 minutes");
    expect(every(3600)).toBe("1 hour");
    expect(every(7200)).toBe("2 hours");
    expect(every(5400)).toBe("90 minutes");
    expect(every(86400)).toBe("1 day");
    expect(every(7 * 86400)).toBe("7 days");
    expect(every(86400 + 3600)).toBe("25 hours");
  });

  it("falls back to seconds for what is not whole seconds", () => {
    expect(every(1.5)).toBe("1.5 seconds");
    expect(every(0.5)).toBe("0.5 seconds");
  });
});

describe("describeSchedule", () => {
  it("says a frequency schedule in words", () => {
    expect(describeSchedule({ schedule_type: "frequency", schedule_info: { run_every: 3600 } })).toBe("every 1 hour");
    expect(describeSchedule({ schedule_type: "frequency", schedule_info: { run_every: "300" } })).toBe(
      "every 5 minutes",
    );
  });

  it("shows a frequency it cannot read as given", () => {
    expect(describeSchedule({ schedule_type: "frequency", schedule_info: { run_every: "soon" } })).toBe(
      "every soon s",
    );
    expect(describeSchedule({ schedule_type: "frequency", schedule_info: { run_every: 0 } })).toBe("every 0 s");
  });

  it("shows a crontab schedule as its five fields and time zone", () => {
    expect(
      describeSchedule({
        schedule_type: "crontab",
        schedule_info: {
          minute: "30",
          hour: "6",
          day_of_month: "*",
          month_of_year: "*",
          day_of_week: "1-5",
          timezone: "Europe/Berlin",
        },
      }),
    ).toBe("cron 30 6 * * 1-5 (Europe/Berlin)");
  });

  it("fills missing crontab fields with * and the time zone with UTC", () => {
    expect(describeSchedule({ schedule_type: "crontab", schedule_info: { minute: "0", hour: "" } })).toBe(
      "cron 0 * * * * (UTC)",
    );
    expect(describeSchedule({ schedule_type: "crontab" })).toBe("cron * * * * * (UTC)");
  });

  it("names other schedule types, and says — for none", () => {
    expect(describeSchedule({ schedule_type: "solar" })).toBe("solar");
    expect(describeSchedule({})).toBe("—");
    expect(describeSchedule(null)).toBe("—");
    expect(describeSchedule(undefined)).toBe("—");
  });
});

describe("CRON_PRESETS", () => {
  const preset = (id: string) => {
    const p = CRON_PRESETS.find((x) => x.id === id);
    if (!p) throw new Error(`no preset ${id}`);
    return p;
  };
  const cron = (id: string, h = 7, m = 5) => {
    const f = preset(id).fields(h, m);
    return [f.minute, f.hour, f.day_of_month, f.month_of_year, f.day_of_week].join(" ");
  };

  it("have unique ids and labels", () => {
    expect(new Set(CRON_PRESETS.map((p) => p.id)).size).toBe(CRON_PRESETS.length);
    expect(new Set(CRON_PRESETS.map((p) => p.label)).size).toBe(CRON_PRESETS.length);
  });

  it("offer the daily preset the Schedules page starts with", () => {
    expect(cron("daily", 6, 0)).toBe("0 6 * * *");
  });

  it("make the crontab each label promises", () => {
    expect(cron("15min")).toBe("*/15 * * * *");
    expect(cron("hourly")).toBe("5 * * * *");
    expect(cron("daily")).toBe("5 7 * * *");
    expect(cron("weekdays")).toBe("5 7 * * 1-5");
    expect(cron("weekly")).toBe("5 7 * * 1");
    expect(cron("monthly")).toBe("5 7 1 * *");
  });

  it("use the time of day exactly when they say they take one", () => {
    for (const p of CRON_PRESETS) {
      const a = p.fields(1, 2);
      const b = p.fields(13, 44);
      expect(JSON.stringify(a) !== JSON.stringify(b), p.id).toBe(p.timed);
    }
  });

  it("write plain numbers, not padded ones", () => {
    const f = preset("daily").fields(9, 5);
    expect(f.hour).toBe("9");
    expect(f.minute).toBe("5");
  });
});
