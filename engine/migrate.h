// Moving a running instance onto another version of its workflow.
//
//   Migrate(from, to, snapshot, state_map, actor, now) -> Outcome
//
// Pure, like Dispatch: the Decision holds the instance's fields laid out for
// `to`, its new state, the history entry ("migrate") and the timer changes;
// the Refusal (rule "migrate") lists everything that blocks the move.
#pragma once

#include <map>
#include <string>

#include "engine/dispatch.h"

namespace mentorflow {

// Old state name -> new state name; a state not named keeps its name.
using StateMap = std::map<std::string, std::string>;

// What blocks the move, in words; empty when it can go:
//  - the (mapped) state does not exist in `to`, or is final there;
//  - a field holding a value has no field of the same name and type in `to`,
//    or its value is not allowed there (an enum value, an int's range);
//  - a field that `to` requires has no value and no default.
// A field `to` adds takes its default. The deadline is kept when the state
// keeps its name and its deadline is the same; otherwise the old timer is
// cancelled and the new state's deadline is armed as if entered on `now`.
// Entry actions (documents, notifications) do not run again.
// `blocks`, when given, receives each reason apart (the Refusal joins them).
Outcome Migrate(const Definition& from, const Definition& to, const Snapshot& snap, const StateMap& state_map,
                const Actor& actor, const std::string& role, const Now& now,
                std::vector<std::string>* blocks = nullptr);

}  // namespace mentorflow
