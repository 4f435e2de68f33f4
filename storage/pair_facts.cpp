// The facts `stats annual` reads about each mentoring pair, kept beside its
// history: written in the same transaction as every history entry that
// changes them, and rebuilt from the history by migration 9. They let the
// annual figures read one row a pair instead of re-reading and re-parsing
// every history entry of every pair (bench/stats).
//
// A pair's row holds, from history entry `since_seq` (at `since`) until the
// next row (at `until`, NULL for the current one), the values of its
// `mentor`, `mentee`, `form` and `kind` fields and the latest extension at or
// before `since`; a new row starts when one of those changes. The moments it
// was formed (first entered `active`) and ended (first entered `completed` or
// `terminated`, with the `termination` value that entry recorded) are the
// same on every row of the pair. So a past year reads exactly as it stood:
// the query keeps what happened before the year's end and the row that was
// current then. Beside the mentee, their year of birth (kept current when
// their date of birth is corrected, and through erasure), so that counting
// the minors needs no look-up per person.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <set>

#include "storage/statements.h"

namespace mentorflow::storage {
namespace {

constexpr std::array<const char*, 4> kTracked = {"mentor", "mentee", "form", "kind"};

bool IsTracked(const std::string& field) {
  for (const char* t : kTracked)
    if (field == t) return true;
  return false;
}

bool Ends(const std::string& state) { return state == "completed" || state == "terminated"; }

// A changed value as the facts keep it: text as it is, a number or a boolean
// as JSON, unset as NULL.
std::optional<std::string> AfterText(const json& after) {
  if (after.is_null()) return std::nullopt;
  if (after.is_string()) return after.get<std::string>();
  return after.dump();
}

}  // namespace

std::vector<PairFactsChange> PairFactsChanges(const json& changes) {
  std::vector<PairFactsChange> out;
  for (const auto& c : changes) {
    const std::string field = c.value("field", "");
    if (IsTracked(field) || field == "termination")
      out.push_back({field, AfterText(c.contains("after") ? c["after"] : json())});
  }
  return out;
}

PairFactsStep AdvancePairFacts(PairFacts* f, const PairFactsEntry& e) {
  PairFactsStep step;
  const bool extension = e.event == "change_signed" && e.to == "active";
  bool tracked = false;
  for (const auto& c : e.changes)
    if (IsTracked(c.field)) {
      f->values[c.field] = c.after;
      tracked = true;
    }
  if (extension) f->extended_at = e.at;
  step.new_row = !f->exists || tracked || extension;
  if (!f->formed_at && e.to == "active") {
    f->formed_at = e.at;
    step.events = true;
  }
  if (!f->ended_at && Ends(e.to)) {
    f->ended_at = e.at;
    f->end_state = e.to;
    f->ground.reset();
    for (const auto& c : e.changes)
      if (c.field == "termination") f->ground = c.after;
    step.events = true;
  }
  return step;
}

namespace {

void Bind(std::string* value, soci::indicator* ind, const std::optional<std::string>& v) {
  *value = v.value_or("");
  *ind = v ? soci::i_ok : soci::i_null;
}

std::optional<std::string> Read(const std::string& value, soci::indicator ind) {
  if (ind != soci::i_ok) return std::nullopt;
  return value;
}

}  // namespace

void SociStore::WritePairFacts(const std::string& instance, long long seq, const std::string& at, PairFacts* f,
                               const PairFactsStep& step) {
  if (step.new_row) {
    if (f->exists) {
      auto& close = q_.Get(q_.close_pair_facts);
      close.instance = instance;
      close.until = at;
      close.Run();
    }
    auto& ins = q_.Get(q_.insert_pair_facts);
    ins.instance = instance;
    ins.seq = seq;
    ins.since = at;
    const std::optional<std::string>* columns[] = {&f->formed_at,      &f->ended_at,       &f->end_state,
                                                    &f->ground,         &f->extended_at,    &f->values["form"],
                                                    &f->values["kind"], &f->values["mentor"], &f->values["mentee"]};
    for (size_t i = 0; i < 9; ++i) Bind(&ins.text[i], &ins.ind[i], *columns[i]);
    const auto born = f->values["mentee"] ? BirthYear(*f->values["mentee"]) : std::nullopt;
    ins.born = born.value_or(0);
    ins.born_ind = born ? soci::i_ok : soci::i_null;
    ins.Run();
    f->exists = true;
  }
  if (step.events) {
    auto& set = q_.Get(q_.set_pair_events);
    set.instance = instance;
    Bind(&set.text[0], &set.ind[0], f->formed_at);
    Bind(&set.text[1], &set.ind[1], f->ended_at);
    Bind(&set.text[2], &set.ind[2], f->end_state);
    Bind(&set.text[3], &set.ind[3], f->ground);
    set.Run();
  }
}

std::optional<long long> SociStore::BirthYear(const std::string& person) {
  auto& q = q_.Get(q_.select_birth_year);
  q.person = person;
  q.ind = soci::i_null;
  if (!q.Run() || q.ind != soci::i_ok) return std::nullopt;
  return q.year;
}

void SociStore::RefreshMenteeBorn(const std::string& person) {
  const auto born = BirthYear(person);
  long long year = born.value_or(0);
  soci::indicator ind = born ? soci::i_ok : soci::i_null;
  *sql_ << "UPDATE pair_facts SET mentee_born = :y WHERE institution = " + I() + " AND mentee = :p",
      soci::use(year, ind), soci::use(person);
}

void SociStore::RecordPairFacts(const std::string& instance, long long seq, const std::string& at,
                                const std::string& event, const std::string& from, const std::string& to,
                                const json& changes) {
  PairFactsEntry e{at, event, to, PairFactsChanges(changes)};
  // Most entries (a signature, a note, a step between states the figures do
  // not read) change no fact: nothing to read or write.
  const bool entering = from != to && (to == "active" || Ends(to));
  const bool relevant = seq == 1 || entering || (event == "change_signed" && to == "active") ||
                        std::any_of(e.changes.begin(), e.changes.end(),
                                    [](const PairFactsChange& c) { return IsTracked(c.field); });
  if (!relevant) return;
  PairFacts f;
  auto& open = q_.Get(q_.select_open_pair_facts);
  open.instance = instance;
  for (auto& i : open.ind) i = soci::i_null;
  if (open.Run()) {
    f.exists = true;
    f.formed_at = Read(open.text[0], open.ind[0]);
    f.ended_at = Read(open.text[1], open.ind[1]);
    f.end_state = Read(open.text[2], open.ind[2]);
    f.ground = Read(open.text[3], open.ind[3]);
    f.extended_at = Read(open.text[4], open.ind[4]);
    f.values["form"] = Read(open.text[5], open.ind[5]);
    f.values["kind"] = Read(open.text[6], open.ind[6]);
    f.values["mentor"] = Read(open.text[7], open.ind[7]);
    f.values["mentee"] = Read(open.text[8], open.ind[8]);
  }
  const PairFactsStep step = AdvancePairFacts(&f, e);
  WritePairFacts(instance, seq, at, &f, step);
}

void SociStore::RebuildPairFacts() {
  *sql_ << "DELETE FROM pair_facts WHERE institution = " + I();
  // A page of instances at a time in id order, then the history of those
  // that are pairs, both read along primary keys (no sort, no plan that
  // rescans the pairs each page), so that neither time per page nor memory
  // grows with the institution.
  const long long page = 2000;
  std::string last;
  for (;;) {
    std::set<std::string> pairs;
    std::string final;
    long long n = 0;
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT id, workflow FROM instances WHERE institution = " + I() +
                                                       " AND id > :l ORDER BY id LIMIT :n",
                                    soci::use(last), soci::use(page));
      for (const auto& r : rs) {
        const std::string id = r.get<std::string>(0);
        ++n;
        final = id;
        if (r.get<std::string>(1) == kPairWorkflow) pairs.insert(id);
      }
    }
    if (n == 0) return;
    last = final;
    if (pairs.empty()) continue;
    struct Row {
      std::string instance;
      long long seq;
      PairFactsEntry entry;
    };
    std::vector<Row> rows;
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT instance, seq, at, event, to_state, changes FROM history"
                            " WHERE institution = " + I() + " AND instance >= :a AND instance <= :b ORDER BY instance, seq",
           soci::use(*pairs.begin()), soci::use(*pairs.rbegin()));
      for (const auto& r : rs) {
        std::string instance = r.get<std::string>(0);
        if (!pairs.count(instance)) continue;
        rows.push_back({std::move(instance), RowInt(r, 1),
                        {r.get<std::string>(2), r.get<std::string>(3), r.get<std::string>(4),
                         PairFactsChanges(json::parse(r.get<std::string>(5)))}});
      }
    }
    PairFacts f;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i == 0 || rows[i].instance != rows[i - 1].instance) f = PairFacts{};
      const PairFactsStep step = AdvancePairFacts(&f, rows[i].entry);
      WritePairFacts(rows[i].instance, rows[i].seq, rows[i].entry.at, &f, step);
    }
  }
}

}  // namespace mentorflow::storage
