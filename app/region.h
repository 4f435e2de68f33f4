// A region's time (issue 27): `tick` and `deliver` serve every institution
// of one database in rounds. A round gives each institution that still has
// work one turn of at most `per_turn` deadlines (or reminders), so a school
// with a backlog of thousands delays every other school by one turn, not by
// its backlog; what it has left waits for the next round, which only the
// busy ones enter. Each turn acts within its institution alone (its zone,
// its settings, its rows), and several processes may run at once: each
// item is claimed by one (FOR UPDATE SKIP LOCKED), and each process starts
// its rounds at its own place in the list, so they do not queue behind one
// another on the same school.
#pragma once

#include <string>
#include <vector>

#include "app/context.h"
#include "app/outbox.h"

namespace mentorflow::app {

struct RegionTurn {
  int round = 0;
  std::string institution;
  Store::TickReport tick;  // for tick
  Delivery delivery;       // for deliver
  Status status;           // this turn's: one institution's failure stops no other
};

struct RegionRun {
  std::vector<RegionTurn> turns;
  int rounds = 0;
  Status status;  // the first turn that failed, or Ok
};

// `fixed_now`: --now as given (a wall time, read in each institution's zone),
// or "" for the clock. `start`: where in the list of institutions this
// process begins its rounds (taken modulo its length). `max_rounds` > 0
// stops after so many rounds, work left or not.
Result<RegionRun> TickRegion(Store& store, const std::string& fixed_now, int per_turn, std::size_t start = 0,
                             int max_rounds = 0);
Result<RegionRun> DeliverRegion(Store& store, const std::string& via, const std::string& fixed_now, int per_turn,
                                std::size_t start = 0, int max_rounds = 0);

// Whether tick and deliver without --institution-id serve the region: the
// database holds another institution than `default` (on SQLite, the file's
// one institution is served as ever).
bool IsRegion(const std::vector<std::string>& institutions, const std::string& db_url);

}  // namespace mentorflow::app
