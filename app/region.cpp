#include "app/region.h"

#include <spdlog/spdlog.h>

#include <functional>

#include "app/delivery.h"

namespace mentorflow::app {

namespace {

// One institution's turn: within it, at its own moment.
using Turn = std::function<Status(RegionTurn* turn, const Now& now, bool* more)>;

Result<RegionRun> Rounds(Store& store, const std::string& fixed_now, std::size_t start, int max_rounds,
                         const Turn& turn) {
  std::vector<std::string> all;
  if (Status s = store.Institutions(&all); !s.ok()) return s;
  RegionRun run;
  std::vector<std::string> pending;
  for (std::size_t k = 0; k < all.size(); ++k) pending.push_back(all[(start + k) % all.size()]);
  while (!pending.empty() && (max_rounds <= 0 || run.rounds < max_rounds)) {
    ++run.rounds;
    std::vector<std::string> next;
    for (const auto& id : pending) {
      RegionTurn t;
      t.round = run.rounds;
      t.institution = id;
      bool more = false;
      Status st = store.UseInstitution(id);
      std::string zone;
      if (st.ok()) st = store.GetSetting("zone", &zone);
      Now now;
      if (st.ok()) st = ResolveNow(fixed_now, zone, &now);
      if (st.ok()) st = turn(&t, now, &more);
      if (!st.ok()) {
        spdlog::error("{}: {}", id, st.message());
        if (run.status.ok()) run.status = Status(st.code(), id + ": " + st.message());
      }
      t.status = st;
      if (st.ok() && more) next.push_back(id);
      run.turns.push_back(std::move(t));
    }
    pending = std::move(next);
  }
  return run;
}

}  // namespace

Result<RegionRun> TickRegion(Store& store, const std::string& fixed_now, int per_turn, std::size_t start,
                             int max_rounds) {
  std::size_t failed = 0;
  auto run = Rounds(store, fixed_now, start, max_rounds, [&](RegionTurn* t, const Now& now, bool* more) {
    Status st = store.TickSome(now, per_turn, &t->tick);
    if (st.code() == Code::kConflict) {  // a user changed an instance meanwhile: the next round goes on
      *more = true;
      return Status::Ok();
    }
    failed += t->tick.failed.size();
    *more = t->tick.more;
    return st;
  });
  // A firing undone (its institution's other deadlines went on) fails the run as a whole.
  if (run.ok() && failed > 0 && run->status.ok())
    run->status = Status::Internal(std::to_string(failed) + " deadline(s) failed and were undone; they fire at the next tick");
  return run;
}

Result<RegionRun> DeliverRegion(Store& store, const std::string& via, const std::string& fixed_now, int per_turn,
                                std::size_t start, int max_rounds) {
  return Rounds(store, fixed_now, start, max_rounds, [&](RegionTurn* t, const Now& now, bool* more) {
    SmtpOptions smtp;
    if (Status s = SmtpOptionsFromSettings(store, &smtp); !s.ok()) return s;
    std::unique_ptr<Channel> channel;
    if (Status s = OpenChannel(via, smtp, &channel); !s.ok()) return s;
    t->delivery.via = channel->Describe();
    t->delivery.status = DeliverPending(store, *channel, now, &t->delivery.report, per_turn, more);
    return t->delivery.status;
  });
}

bool IsRegion(const std::vector<std::string>& institutions, const std::string& db_url) {
  if (db_url.rfind("sqlite:", 0) == 0) return false;
  return institutions.size() > 1 || (institutions.size() == 1 && institutions[0] != kDefaultInstitution);
}

}  // namespace mentorflow::app
