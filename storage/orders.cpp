// Collective documents: one order listing every instance that awaits it
// (`collects: STATE` in the YAML), numbered N/YYYY, whose completing
// signature sends `on_signed` to every listed instance in one transaction.
#include <algorithm>

#include "engine/document_lifecycle.h"
#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {
namespace {

// "12/2026" -> 12, 2026.
bool SplitNumber(const std::string& text, long long* number, long long* year) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash > 9 || text.size() - slash != 5) return false;
  const std::string n = text.substr(0, slash), y = text.substr(slash + 1);
  if (n.find_first_not_of("0123456789") != std::string::npos || y.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *number = std::stoll(n);
  *year = std::stoll(y);
  return *number > 0;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string NumberText(long long number, long long year) { return std::to_string(number) + "/" + std::to_string(year); }

}  // namespace

Status SociStore::ReadOrder(long long year, long long number, DocumentRecord* out) {
  std::string workflow, name, template_name, issued_at, issued_by, status, signatures, content, sha256, erased,
      redacted;
  long long version = 0;
  soci::indicator ind = soci::i_null, ei = soci::i_null, ri = soci::i_null;
  *sql_ << "SELECT workflow, workflow_version, name, template, issued_at, issued_by, status, signatures, content,"
           " sha256, erased_at, redacted_at FROM orders WHERE institution = " + I() + " AND year = :y AND number = :n",
      soci::into(workflow, ind), soci::into(version), soci::into(name), soci::into(template_name),
      soci::into(issued_at), soci::into(issued_by), soci::into(status), soci::into(signatures), soci::into(content),
      soci::into(sha256), soci::into(erased, ei), soci::into(redacted, ri), soci::use(year), soci::use(number);
  if (ind != soci::i_ok) return Status::NotFound("no order " + NumberText(number, year));
  Status st;
  const Definition* def = DefinitionFor(workflow, static_cast<int>(version), &st);
  if (!def) return st;
  const int di = def->DocumentIndex(name);
  if (di < 0) throw StoredStateError("order " + NumberText(number, year) + ": its workflow has no document '" + name + "'");
  const DocumentDef& dd = def->documents[di];
  DocumentRecord d;
  d.workflow = workflow;
  d.name = name;
  d.number = NumberText(number, year);
  d.issue = number;
  d.title = dd.title.empty() ? dd.name : dd.title;
  d.template_name = template_name;
  d.issued_at = issued_at;
  d.issued_by = issued_by;
  d.status = status;
  d.content = content;
  d.sha256 = sha256;
  if (ei == soci::i_ok) d.erased_at = erased;
  if (ri == soci::i_ok) d.redacted_at = redacted;
  d.intact = d.erased_at.empty() && d.redacted_at.empty() ? Sha256Hex(content) == sha256 : true;
  const auto sigs = ParseSignatures(signatures);
  for (const auto& as : dd.signers) {
    DocumentRecord::Place p;
    p.as = as;
    p.title = def->HasRole(as) ? def->RoleTitle(as) : as;
    for (const auto& s : sigs)
      if (s.as == as) {
        p.person = p.signed_by = s.person;
        p.capacity = s.capacity;
        p.signed_at = s.at;
        p.via = s.via;
      }
    if (!p.person.empty()) p.name = p.signed_by_name = PersonName(p.person);
    d.places.push_back(std::move(p));
  }
  soci::rowset<std::string> rs = (sql_->prepare << "SELECT instance FROM order_items WHERE institution = " + I() +
                                                   " AND year = :y AND number = :n ORDER BY position",
                                  soci::use(year), soci::use(number));
  for (const auto& i : rs) d.items.push_back(i);
  *out = std::move(d);
  return Status::Ok();
}

void SociStore::LockOrders(const std::string& workflow, const std::string& name) {
  if (sqlite_) return;  // SQLite's writers are serialised already
  long long key = static_cast<long long>(Fnv1a64(institution_ + ":order:" + workflow + ":" + name) >> 1);
  *sql_ << "SELECT pg_advisory_xact_lock(:k)", soci::use(key);
}

Status SociStore::Order(const std::string& number_text, DocumentRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    long long number = 0, year = 0;
    if (!SplitNumber(number_text, &number, &year))
      return Status::BadInput("an order is NUMBER/YEAR, e.g. 12/2026");
    return ReadOrder(year, number, out);
  });
}

Status SociStore::IssueOrder(const std::string& wanted, const std::string& actor_id, const Now& now,
                             DocumentRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a document", wanted); !s.ok()) return s;
    Tx tx(*this);
    // Which collective document: by its name or its template's, in the
    // latest version of each registered workflow.
    const Definition* def = nullptr;
    const DocumentDef* dd = nullptr;
    std::vector<std::string> known;
    {
      std::vector<std::pair<std::string, long long>> latest;
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT name, MAX(version) FROM " + CurrentDefinitions() +
                            " GROUP BY name ORDER BY name");
      for (const auto& r : rs) latest.emplace_back(r.get<std::string>(0), RowInt(r, 1));
      for (const auto& [wf, v] : latest) {
        Status st;
        const Definition* d = DefinitionFor(wf, static_cast<int>(v), &st);
        if (!d) return st;
        for (const auto& doc : d->documents) {
          if (!doc.Collective()) continue;
          known.push_back(doc.name);
          if (doc.name != wanted && doc.template_name != wanted) continue;
          if (dd)
            return Status::BadInput("'" + wanted + "' names collective documents of both " + def->name + " and " +
                                    d->name + "; give the document's own name");
          def = d;
          dd = &doc;
        }
      }
    }
    if (!dd)
      return Status::NotFound("no collective document '" + wanted + "' in the registered workflows" +
                              (known.empty() ? std::string(" (none declares one)") : " (they have: " + Join(known) + ")"));
    const Actor actor = LoadActor(actor_id);
    if (std::none_of(dd->issued_by.begin(), dd->issued_by.end(), [&](const std::string& r) { return actor.Holds(r); }))
      return Status(Code::kRefused,
                    "role: " + actor_id + " may not issue '" + dd->name + "' (it is issued by " +
                        Join(dd->issued_by) + ")",
                    "role");
    // Issuing and signing orders of one kind take one lock first, so that
    // they serialise rather than deadlock on the rows each locks.
    LockOrders(def->name, dd->name);
    const std::string& state = def->states[dd->collects].name;
    // Every instance waiting in the collected state, under any version whose
    // definition collects it the same way (instances of older versions keep
    // the documents they were started with).
    std::vector<InstanceRecord> items;
    std::vector<const Definition*> item_defs;
    {
      std::vector<std::string> ids;
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() +
                                                       " AND workflow = :w AND state = :s ORDER BY created, id",
                                      soci::use(def->name), soci::use(state));
      for (const auto& id : rs) ids.push_back(id);
      for (const auto& id : ids) {
        InstanceRecord rec;
        const Definition* d = nullptr;
        if (Status s = LoadInstance(id, &rec, &d, "", nullptr); !s.ok()) return s;
        if (rec.state != state) continue;  // moved on since the list was read
        const int di = d->DocumentIndex(dd->name);
        if (di < 0 || d->documents[di].collects != d->StateIndex(state)) continue;
        items.push_back(rec);
        item_defs.push_back(d);
      }
    }
    if (items.empty())
      return Status(Code::kRefused,
                    "empty: no " + def->name + " is in state '" + state + "' awaiting '" + dd->name + "'; nothing was issued",
                    "empty");
    // The number first: its counter row is the lock two curators issuing at
    // once wait on, so the second sees (and supersedes) the first's order.
    const long long year = std::stoll(FormatDate(now.today).substr(0, 4));
    const std::string counter = "order:" + std::to_string(year);
    long long number = 0;
    {
      *sql_ << "INSERT INTO counters (institution, name, value) VALUES (" + I() +
                   ", :n, 0) ON CONFLICT (institution, name) DO NOTHING",
          soci::use(counter);
      *sql_ << "UPDATE counters SET value = value + 1 WHERE institution = " + I() + " AND name = :n RETURNING value",
          soci::into(number),
          soci::use(counter);
    }
    // Earlier orders of this kind not yet signed are superseded.
    {
      std::vector<std::tuple<long long, long long, std::string>> open;
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT year, number, status FROM orders WHERE institution = " + I() +
                                                     " AND workflow = :w AND name = :n AND status IN ('issued', 'partly_signed')",
                                    soci::use(def->name), soci::use(dd->name));
      for (const auto& r : rs) open.emplace_back(RowInt(r, 0), RowInt(r, 1), r.get<std::string>(2));
      for (const auto& [y, n, status] : open) {
        auto from = ParseDocumentStatus(status);
        if (!from) throw StoredStateError("order " + NumberText(n, y) + " has status '" + status + "'");
        DocumentStep step = AdvanceDocument(*from, DocumentEvent::kSupersede);
        if (!step.status.ok()) return step.status;
        std::string to(DocumentStatusName(step.to));
        long long yy = y, nn = n;
        *sql_ << "UPDATE orders SET status = :s WHERE institution = " + I() + " AND year = :y AND number = :n",
            soci::use(to), soci::use(yy),
            soci::use(nn);
      }
    }
    const std::string number_text = NumberText(number, year);
    // The text: the institution, the order's number and date, who issued
    // it, and one entry per instance with what its own documents show.
    json ctx = {{"institution", {{"name", Setting("institution")}}},
                {"today", RussianDate(FormatDate(now.today))},
                {"document", {{"name", dd->name}, {"title", dd->title}, {"id", number_text}}},
                {"order", {{"number", number_text}, {"date", RussianDate(FormatDate(now.today))}}},
                {"workflow", {{"name", def->name}, {"title", def->title}}},
                {"issuer", {{"id", actor_id}, {"name", PersonName(actor_id)}}},
                {"count", items.size()}};
    for (const auto& role : dd->issued_by)
      if (actor.Holds(role)) ctx[role] = ctx["issuer"];
    json entries = json::array();
    DocumentPeople people;
    people.Mentioned(actor_id);
    for (size_t k = 0; k < items.size(); ++k) {
      const Definition& d = *item_defs[k];
      json e = DocumentContext(d, d.documents[d.DocumentIndex(dd->name)], items[k].id,
                               SnapshotOf(d, items[k]).fields, 0, now, &people);
      if (e["institution"].contains("director")) ctx["institution"]["director"] = e["institution"]["director"];
      for (const char* key : {"institution", "today", "document", "workflow"}) e.erase(key);
      e["n"] = k + 1;
      entries.push_back(std::move(e));
    }
    ctx["items"] = std::move(entries);
    std::string content;
    if (Status s = RenderDocumentTemplate(options_.templates_dir, dd->template_name, ctx, &content); !s.ok()) return s;
    const std::string at = FormatInstant(now.instant), sha = Sha256Hex(content), none = "[]", issued = "issued";
    long long version = def->version;
    *sql_ << "INSERT INTO orders (institution, year, number, workflow, workflow_version, name, template, issued_at,"
             " issued_by, status, signatures, content, sha256) VALUES (" + I() + ", :y, :n, :w, :v, :d, :t, :a, :b, :s, :g, :c, :h)",
        soci::use(year), soci::use(number), soci::use(def->name), soci::use(version), soci::use(dd->name),
        soci::use(dd->template_name), soci::use(at), soci::use(actor_id), soci::use(issued), soci::use(none),
        soci::use(content), soci::use(sha);
    RecordDocumentPeople(number_text, people);
    // Each listed instance notes the order; the note's entry is where the
    // instance stood when the order was issued.
    for (size_t k = 0; k < items.size(); ++k) {
      if (Status s = AppendNote(*item_defs[k], items[k], actor_id, dd->issued_by.front(), "listed",
                                "listed on " + dd->name + " " + number_text, now);
          !s.ok())
        return s;
      long long position = static_cast<long long>(k) + 1, seq = items[k].version + 1;
      *sql_ << "INSERT INTO order_items (institution, year, number, position, instance, seq) VALUES (" + I() +
                   ", :y, :n, :p, :i, :s)",
          soci::use(year), soci::use(number), soci::use(position), soci::use(items[k].id), soci::use(seq);
    }
    if (Status s = ReadOrder(year, number, out); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::SignOrder(const std::string& number_text, const std::string& actor_id, const Now& now,
                            std::string* status_out, std::vector<std::string>* sent) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    long long number = 0, year = 0;
    if (!SplitNumber(number_text, &number, &year)) return Status::BadInput("an order is NUMBER/YEAR, e.g. 12/2026");
    Tx tx(*this);
    if (!sqlite_ && !check_only_) {
      // The lock of its kind first (as IssueOrder takes it), then the row:
      // two directors at once sign one after the other, and an order issued
      // meanwhile waits for this signature and sees what it approved.
      std::string workflow, name;
      soci::indicator wi = soci::i_null;
      *sql_ << "SELECT workflow, name FROM orders WHERE institution = " + I() + " AND year = :y AND number = :n",
          soci::into(workflow, wi),
          soci::into(name), soci::use(year), soci::use(number);
      if (wi == soci::i_ok) LockOrders(workflow, name);
      *sql_ << "SELECT number FROM orders WHERE institution = " + I() + " AND year = :y AND number = :n FOR UPDATE",
          soci::into(number),
          soci::use(year), soci::use(number);
    }
    DocumentRecord order;
    if (Status s = ReadOrder(year, number, &order); !s.ok()) return s;
    Status st;
    long long wv = 0;
    *sql_ << "SELECT workflow_version FROM orders WHERE institution = " + I() + " AND year = :y AND number = :n",
        soci::into(wv), soci::use(year),
        soci::use(number);
    const Definition* def = DefinitionFor(order.workflow, static_cast<int>(wv), &st);
    if (!def) return st;
    const DocumentDef& dd = def->documents[def->DocumentIndex(order.name)];
    auto from = ParseDocumentStatus(order.status);
    if (!from) throw StoredStateError("order " + number_text + " has status '" + order.status + "'");
    if (!order.erased_at.empty())
      return Status(Code::kRefused,
                    "erased: the text of order " + number_text + " was destroyed on " + LocalDay(order.erased_at, Zone()) +
                        " with the personal data of someone it named; the curator issues a new order",
                    "erased");
    if (!order.intact)
      return Status(Code::kRefused,
                    "altered: order " + number_text +
                        " no longer matches the SHA-256 it was issued with (its stored text was changed); it cannot"
                        " be signed — the curator issues a new one",
                    "altered");
    if (*from == DocumentStatus::kSuperseded)
      return Status(Code::kRefused,
                    "document: order " + number_text + " was superseded by a later order; sign the latest (doc list)",
                    "document");
    std::string sigs_text;
    *sql_ << "SELECT signatures FROM orders WHERE institution = " + I() + " AND year = :y AND number = :n",
        soci::into(sigs_text), soci::use(year),
        soci::use(number);
    std::vector<Signature> sigs = ParseSignatures(sigs_text);
    const Actor actor = LoadActor(actor_id);
    const std::vector<Value> no_fields(def->fields.size());
    SignRuling ruling = MaySign(*def, dd, -1, no_fields, actor, sigs, {}, now.today);
    if (!ruling.status.ok()) return ruling.status;
    if (check_only_) return Status::Ok();  // MaySignNow: nothing was written
    sigs.push_back({actor.id, ruling.as, ruling.capacity, FormatInstant(now.instant), channel_});
    const bool all = FullySigned(*def, dd, no_fields, sigs);
    DocumentStep step = AdvanceDocument(*from, DocumentEvent::kSign, all);
    if (!step.status.ok()) return step.status;
    std::string status(DocumentStatusName(step.to)), text = SignaturesJson(sigs);
    *sql_ << "UPDATE orders SET signatures = :g, status = :s WHERE institution = " + I() +
                 " AND year = :y AND number = :n",
        soci::use(text),
        soci::use(status), soci::use(year), soci::use(number);
    if (all) {
      // Every listed instance still where it was when the order was issued,
      // then the event to each: one refusal and nothing is applied. On
      // PostgreSQL the pairs are read, locked and checked in one statement,
      // their deadlines in one more, and held (storage/held.cpp): each
      // pair's row and deadlines are written once, its other writes queued
      // without waiting, all answered before the commit.
      HoldingScope holding(*this);
      struct Item {
        InstanceRecord rec;
        long long seq = 0, moved = 0;
        bool has_moved = false;
      };
      std::vector<Item> items;
      {
        soci::rowset<soci::row> rs =
            (sql_->prepare << "SELECT t.instance, t.seq, i.workflow, i.workflow_version, i.state, i.fields, i.parent,"
                              " i.version, i.created, i.updated, (SELECT MIN(h.seq) FROM history h WHERE"
                              " h.institution = t.institution AND h.instance = t.instance AND h.seq > t.seq AND"
                              " h.from_state <> h.to_state) FROM order_items t JOIN instances i ON"
                              " i.institution = t.institution AND i.id = t.instance WHERE t.institution = " + I() +
                                  " AND t.year = :y AND t.number = :n ORDER BY t.position" +
                                  (sqlite_ ? "" : " FOR UPDATE OF i"),
             soci::use(year), soci::use(number));
        for (const auto& r : rs) {
          Item it;
          it.seq = RowInt(r, 1);
          it.rec = InstanceRecord{r.get<std::string>(0), r.get<std::string>(2), static_cast<int>(RowInt(r, 3)),
                                  r.get<std::string>(4), r.get<std::string>(5), RowText(r, 6),
                                  static_cast<long>(RowInt(r, 7)), r.get<std::string>(8), r.get<std::string>(9)};
          it.has_moved = r.get_indicator(10) == soci::i_ok;
          if (it.has_moved) it.moved = RowInt(r, 10);
          items.push_back(std::move(it));
        }
      }
      {  // an item whose instance is gone (a join cannot lock the side that may be missing)
        std::vector<std::string> listed;
        soci::rowset<std::string> rs = (sql_->prepare << "SELECT instance FROM order_items WHERE institution = " + I() +
                                                         " AND year = :y AND number = :n ORDER BY position",
                                        soci::use(year), soci::use(number));
        listed.assign(rs.begin(), rs.end());
        for (std::size_t k = 0; k < listed.size(); ++k)
          if (k >= items.size() || items[k].rec.id != listed[k]) return Status::NotFound("no instance '" + listed[k] + "'");
      }
      if (Holding()) {
        std::map<std::string, std::map<std::string, std::string>> dues;
        soci::rowset<soci::row> rs =
            (sql_->prepare << "SELECT instance, timer_key, due FROM timers WHERE institution = " + I() +
                                  " AND instance IN (SELECT instance FROM order_items WHERE institution = " + I() +
                                  " AND year = :y AND number = :n)",
             soci::use(year), soci::use(number));
        for (const auto& r : rs) dues[r.get<std::string>(0)][r.get<std::string>(1)] = r.get<std::string>(2);
        for (const auto& it : items)
          HoldAsRead(it.rec, std::move(dues[it.rec.id]));
      }
      const std::string reissue = "; nothing was approved — the curator issues a new order (doc issue " + dd.name + ")";
      const std::string collected = def->states[dd.collects].name;
      for (const auto& it : items) {
        const std::string& id = it.rec.id;
        Status dst;
        const Definition* d = DefinitionFor(it.rec.workflow, it.rec.workflow_version, &dst);
        if (!d) return dst;
        if (it.rec.state != collected || it.has_moved) {
          std::string event, at;
          if (it.has_moved)
            *sql_ << "SELECT event, at FROM history WHERE institution = " + I() + " AND instance = :i AND seq = :s",
                soci::into(event), soci::into(at), soci::use(id), soci::use(it.moved);
          return Status(Code::kRefused,
                        "changed: " + d->name + " " + id + " has changed since order " + number_text +
                            " was issued (" +
                            (it.has_moved ? "'" + event + "' on " + LocalDay(at, Zone()) + ", " : std::string()) +
                            "now in state '" + it.rec.state + "')" + reissue,
                        "changed");
        }
        InstanceRecord after;
        Refusal refusal;
        Status s = Send(id, dd.on_signed, {}, actor_id, now, &after, &refusal);
        if (!s.ok())
          return Status(s.code(), "changed: " + d->name + " " + id + " cannot take '" + dd.on_signed + "': " +
                                      s.message() + reissue,
                        s.code() == Code::kRefused ? "changed" : s.rule());
        if (sent) sent->push_back(id);
      }
      if (pipe_) pipe_->Flush();
    }
    tx.Commit();
    if (status_out) *status_out = status;
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
