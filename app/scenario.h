// Data-driven scenarios, in the spirit of DuckDB's .test files, run on the
// real store (a fresh database the caller names: a temp SQLite file, or a
// PostgreSQL database).
//
// A scenario file names the institution's zone and people, then a timeline
// of steps; each step acts (start, send, sign, consent, revoke, tick) at a
// date, as a person, and may state what must follow: the state, the refusal
// rule, the exit code, the deadlines fired and the reminders that came due.
// A key the runner does not know is an error naming its line, so a misspelt
// expectation can never pass silently.
//
//   zone: Europe/Saratov
//   people:
//     c1: {roles: [curator], consent: true}
//   steps:
//     - {at: 2026-09-01, as: c1, start: mentoring_pair, name: pair,
//        set: {mentor: m1, mentee: s1, form: virtual, kind: volunteer_pupil}, expect: proposed}
//     - {as: c1, send: ready, to: pair, refused: condition}
//     - {tick: 2026-09-20, fired: ["pair documents_overdue 2026-09-15"], reminders: ["c1 upcoming pair 2026-09-08"]}
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/loader.h"

namespace mentorflow {

struct ScenarioOptions {
  std::string db_url;         // an empty database; the runner initialises it
  std::string templates_dir;  // for rendering reminders
  // "jsonl:PATH" (app/delivery.h): after every tick, the reminders that came
  // due are delivered there, as `mentorflow deliver` from cron would. Empty: none.
  std::string deliver_via;
};

struct ScenarioReport {
  std::vector<Diagnostic> failures;  // empty: the scenario passed
  int steps = 0;
  int fired = 0;      // deadlines fired by its ticks
  int reminders = 0;  // reminders that came due
  int delivered = 0;  // reminders handed to `deliver_via`
  std::string director;  // the scenario's director (who registered everyone)
  Now end{};             // the moment of the last step
};

// `log`, when set, receives one human-readable line per step (who did what
// to which instance, with the titles from the YAML: the transition and the
// state it led to), per fired deadline and per reminder.
ScenarioReport RunScenarioFile(const std::string& path, const Catalog& catalog, const ScenarioOptions& options,
                               const std::function<void(const std::string&)>& log = nullptr);

}  // namespace mentorflow
