// The schedule part of a schedule document ({"schedule_type",
// "schedule_info"}) in words, used by the Schedules and SyncPacks pages,
// and the crontab presets the Schedules page offers.

export interface FrequencyInfo {
  run_every?: number | string;
}

export interface CrontabInfo {
  minute?: string;
  hour?: string;
  day_of_month?: string;
  month_of_year?: string;
  day_of_week?: string;
  timezone?: string;
}

export interface ScheduleSpec {
  schedule_type?: string;
  schedule_info?: FrequencyInfo & CrontabInfo;
}

/** A number of seconds as the largest whole unit: 3600 → "1 hour". */
export function every(seconds: number): string {
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? `1 ${unit}` : `${n} ${unit}s`;
    }
  }
  return `${seconds} seconds`;
}

export function describeSchedule(s?: ScheduleSpec | null): string {
  if (!s) return "—";
  const info = s.schedule_info ?? {};
  if (s.schedule_type === "frequency") {
    const n = Number(info.run_every);
    return Number.isFinite(n) && n > 0 ? `every ${every(n)}` : `every ${info.run_every} s`;
  }
  if (s.schedule_type === "crontab") {
    const f = (v?: string) => (v === undefined || v === "" ? "*" : v);
    const cron = [info.minute, info.hour, info.day_of_month, info.month_of_year, info.day_of_week].map(f).join(" ");
    return `cron ${cron} (${info.timezone || "UTC"})`;
  }
  return s.schedule_type ?? "—";
}

export interface CronFields {
  minute: string;
  hour: string;
  day_of_month: string;
  month_of_year: string;
  day_of_week: string;
}

export interface CronPreset {
  id: string;
  label: string;
  /** Whether the preset takes a time of day (HH:MM). */
  timed: boolean;
  fields: (hour: number, minute: number) => CronFields;
}

const all = { day_of_month: "*", month_of_year: "*", day_of_week: "*" };

export const CRON_PRESETS: CronPreset[] = [
  { id: "15min", label: "Every 15 minutes", timed: false, fields: () => ({ minute: "*/15", hour: "*", ...all }) },
  { id: "hourly", label: "Every hour (at the minute given)", timed: true, fields: (_h, m) => ({ minute: String(m), hour: "*", ...all }) },
  { id: "daily", label: "Every day at…", timed: true, fields: (h, m) => ({ minute: String(m), hour: String(h), ...all }) },
  {
    id: "weekdays",
    label: "Weekdays (Monday to Friday) at…",
    timed: true,
    fields: (h, m) => ({ minute: String(m), hour: String(h), day_of_month: "*", month_of_year: "*", day_of_week: "1-5" }),
  },
  {
    id: "weekly",
    label: "Every Monday at…",
    timed: true,
    fields: (h, m) => ({ minute: String(m), hour: String(h), day_of_month: "*", month_of_year: "*", day_of_week: "1" }),
  },
  {
    id: "monthly",
    label: "The first day of every month at…",
    timed: true,
    fields: (h, m) => ({ minute: String(m), hour: String(h), day_of_month: "1", month_of_year: "*", day_of_week: "*" }),
  },
];
