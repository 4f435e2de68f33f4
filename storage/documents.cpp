// Documents: signatures on the latest issue, as rules.h decides, each one a
// history entry on its instance.
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

std::vector<Signature> SociStore::ParseSignatures(const std::string& text) {
  std::vector<Signature> out;
  for (const auto& s : json::parse(text)) {
    if (s.is_string()) {  // schema v2 kept person ids only
      out.push_back({s.get<std::string>(), "", "", ""});
      continue;
    }
    out.push_back({s.value("person", ""), s.value("as", ""), s.value("capacity", ""), s.value("at", "")});
  }
  return out;
}

Status SociStore::Sign(const std::string& id, const std::string& doc, const std::string& actor_id, const Now& now,
                       std::string* status_out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("--as", actor_id); !s.ok()) return s;
    Tx tx(*this);
    InstanceRecord rec;
    const Definition* def = nullptr;
    Actor actor;
    if (Status s = LoadInstance(id, &rec, &def, actor_id, &actor); !s.ok()) return s;
    const Snapshot snap = SnapshotOf(*def, rec);  // a state or field it does not know: exit 5, first
    int di = def->DocumentIndex(doc);
    long long issue = 0;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MAX(issue) FROM documents WHERE instance = :i AND name = :n", soci::into(issue, ind),
        soci::use(id), soci::use(doc);
    if (di < 0) return Status::NotFound("workflow '" + def->name + "' has no document '" + doc + "'");
    if (ind != soci::i_ok) return Status::NotFound("document '" + doc + "' has not been issued for instance " + id);
    const DocumentDef& dd = def->documents[di];
    const auto& fields = snap.fields;
    std::string sigs_text;
    *sql_ << "SELECT signatures FROM documents WHERE instance = :i AND name = :n AND issue = :s",
        soci::into(sigs_text), soci::use(id), soci::use(doc), soci::use(issue);
    std::vector<Signature> sigs = ParseSignatures(sigs_text);
    SignRuling ruling = MaySign(*def, dd, snap.state, fields, actor, sigs);
    if (!ruling.status.ok()) return ruling.status;
    sigs.push_back({actor.id, ruling.as, ruling.capacity, FormatInstant(now.instant)});
    const bool all = FullySigned(*def, dd, fields, sigs);
    json arr = json::array();
    for (const auto& s : sigs) arr.push_back({{"person", s.person}, {"as", s.as}, {"capacity", s.capacity}, {"at", s.at}});
    std::string status = all ? "signed" : "issued", text = arr.dump();
    *sql_ << "UPDATE documents SET signatures = :g, status = :s WHERE instance = :i AND name = :n AND issue = :v",
        soci::use(text), soci::use(status), soci::use(id), soci::use(doc), soci::use(issue);
    std::string note = doc + " issue " + std::to_string(issue) + " signed as " + ruling.as +
                       (all ? "; the document is signed" : "");
    if (Status s = AppendNote(*def, rec, actor.id, ruling.as, "sign", note, now); !s.ok()) return s;
    tx.Commit();
    if (status_out) *status_out = status;
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
