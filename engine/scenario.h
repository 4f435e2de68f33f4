// Data-driven scenarios, in the spirit of DuckDB's .test files.
//
// A scenario file names the people, then a timeline of steps; each step acts
// (start, send, sign, consent, revoke, tick) at a date, as a person, and may
// state what must follow: the state, the refusal rule, the exit code, the
// reminders sent. One generic runner executes every file; a step whose
// expectation fails is reported with its line.
//
//   zone: Europe/Saratov
//   people:
//     c1: {roles: [curator], consent: true}
//   steps:
//     - {at: 2026-09-01, as: c1, start: mentoring_pair, name: pair,
//        set: {mentor: m1, mentee: s1, form: virtual, kind: volunteer_pupil}, expect: proposed}
//     - {as: c1, send: ready, to: pair, refused: condition}
//     - {tick: 2026-09-20, reminders: 1}
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/loader.h"

namespace mentorflow {

struct ScenarioReport {
  std::vector<Diagnostic> failures;  // empty: the scenario passed
  int steps = 0;
};

// `log`, when set, receives one human-readable line per step and per reminder.
ScenarioReport RunScenarioFile(const std::string& path, const Catalog& catalog,
                               const std::function<void(const std::string&)>& log = nullptr);

}  // namespace mentorflow
