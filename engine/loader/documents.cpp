// Documents: their templates (and the fields a template may print),
// signers, what a collective document collects, its statistics.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

bool Loader::TemplateExists(const std::string& t, bool reminder) const {
  if (opts_.templates_dir.empty()) return true;
  std::error_code ec;
  fs::path dir = fs::path(opts_.templates_dir);
  if (reminder) dir /= "reminders";
  return fs::is_regular_file(dir / (t + ".mustache"), ec);
}

void Loader::CheckTemplate(const std::string& t, Mark m, bool reminder) {
  if (!IsIdentifier(t)) Error(m, msg::BadIdentifier(t, "template"));
  else if (!TemplateExists(t, reminder))
    Error(m, msg::UnknownTemplate(t, reminder ? opts_.templates_dir + "/reminders" : opts_.templates_dir));
}

void Loader::CheckTemplateFields(const std::string& t, Mark m) {
  if (opts_.templates_dir.empty() || !IsIdentifier(t) || !TemplateExists(t, false)) return;
  const std::string path = (fs::path(opts_.templates_dir) / (t + ".mustache")).string();
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::string> known;
  for (const auto& f : def_.fields) {
    if (f.type == FieldType::kList) continue;
    known.push_back(f.name);
    if (f.type == FieldType::kEnum) known.push_back(f.name + "_title");
  }
  for (size_t open = text.find("{{"); open != std::string::npos; open = text.find("{{", open + 2)) {
    const size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string tag = text.substr(open + 2, close - open - 2);
    size_t b = tag.find_first_not_of(" \t#^/&{");
    if (b == std::string::npos) continue;
    tag = tag.substr(b);
    tag = tag.substr(0, tag.find_first_of(" \t}"));
    if (tag.rfind("fields.", 0) != 0) continue;
    std::string name = tag.substr(7);
    name = name.substr(0, name.find('.'));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    int line = 1, column = 1;
    for (size_t i = 0; i < open; ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
    }
    Error(m, msg::TemplateUnknownField(t + ".mustache:" + std::to_string(line) + ":" + std::to_string(column), name,
                                       def_.name, Closest(name, known)));
  }
}

bool Loader::CheckRecipient(const std::string& r, Mark m) {
  int fi = def_.FieldIndex(r);
  if (fi >= 0 && def_.fields[fi].type == FieldType::kPerson) return true;
  return CheckRole(r, m);
}

void Loader::ParseDocuments(const YAML::Node& n) {
  if (!n) return;
  if (!IsMap(n, "documents")) return;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Name(it->first, "document");
    if (!name) continue;
    if (def_.DocumentIndex(*name) >= 0) {
      Error(M(it->first), msg::Duplicate("document", *name));
      continue;
    }
    const YAML::Node d = it->second;
    DocumentDef doc;
    doc.name = *name;
    doc.mark = M(it->first);
    if (!IsMap(d, "a document")) continue;
    CheckKeys(d, kDocumentKeys, "a document");
    if (!d["template"]) Error(M(d), msg::MissingKey("template", "document '" + *name + "'"));
    else if (auto t = Scalar(d["template"], "template")) {
      doc.template_name = *t;
      CheckTemplate(*t, M(d["template"]));
      CheckTemplateFields(*t, M(d["template"]));
    }
    if (d["title"]) doc.title = Scalar(d["title"], "title").value_or("");
    std::vector<Mark> signer_marks;
    if (!d["signers"]) Error(M(d), msg::MissingKey("signers", "document '" + *name + "'"));
    else {
      for (auto& [s, m] : Names(d["signers"], "signers")) {
        int fi = def_.FieldIndex(s);
        bool person_field = fi >= 0 && def_.fields[fi].type == FieldType::kPerson;
        if (!person_field && !def_.HasRole(s)) {
          auto all = def_.roles;
          for (const auto& f : def_.fields)
            if (f.type == FieldType::kPerson) all.push_back(f.name);
          Error(m, msg::UnknownSigner(s, Closest(s, all)));
        } else {
          doc.signers.push_back(s);
          signer_marks.push_back(m);
        }
      }
    }
    if (d["collects"]) {
      doc.collects_mark = M(d["collects"]);
      if (auto c = Scalar(d["collects"], "collects")) doc.collects_name = *c;
      if (!d["on_signed"]) Error(M(d), msg::CollectiveNeeds(*name, "on_signed"));
      if (!d["issued_by"]) Error(M(d), msg::CollectiveNeeds(*name, "issued_by"));
      for (size_t k = 0; k < doc.signers.size(); ++k) {
        const int fi = def_.FieldIndex(doc.signers[k]);
        if (fi >= 0 && def_.fields[fi].type == FieldType::kPerson)
          Error(signer_marks[k], msg::CollectiveSigner(*name, doc.signers[k]));
      }
    }
    for (const char* key : {"on_signed", "issued_by"})
      if (d[key] && !d["collects"]) Error(KeyMark(d, key), msg::KeyOnlyFor(key, "a collective document (collects:)"));
    if (d["on_signed"] && d["collects"]) {
      doc.on_signed_mark = M(d["on_signed"]);
      doc.on_signed = Scalar(d["on_signed"], "on_signed").value_or("");
    }
    if (d["issued_by"] && d["collects"])
      for (auto& [r, m] : Names(d["issued_by"], "issued_by"))
        if (CheckRole(r, m)) doc.issued_by.push_back(r);
    if (d["statistics"]) ParseDocumentStatistics(d["statistics"], d["collects"].IsDefined(), doc);
    def_.documents.push_back(std::move(doc));
  }
}

void Loader::ParseDocumentStatistics(const YAML::Node& st, bool collective, DocumentDef& doc) {
  if (collective) Error(M(st), msg::StatisticsOnCollective(doc.name));
  if (!IsMap(st, "statistics")) return;
  CheckKeys(st, {"annual", "to_region"}, "a document's statistics");
  if (st["to_region"]) doc.to_region = Bool(st["to_region"], "to_region").value_or(false);
  if (!st["annual"]) {
    Error(M(st), msg::MissingKey("annual", "statistics"));
    return;
  }
  auto f = Scalar(st["annual"], "annual");
  if (!f) return;
  int i = -1;
  const FieldDef* fd = ResolveField(*f, M(st["annual"]), def_.fields, &i);
  if (!fd) return;
  if (fd->type != FieldType::kInt) Error(M(st["annual"]), msg::StatisticsYearNotInt(*f, FieldTypeName(fd->type)));
  else if (!collective) doc.statistics_year = i;
}

void Loader::CheckCollectiveDocuments() {
  for (auto& doc : def_.documents) {
    if (doc.collects_name.empty()) continue;
    doc.collects = ResolveState(doc.collects_name, doc.collects_mark);
    if (doc.collects < 0 || doc.on_signed.empty()) continue;
    auto ev = std::find(def_.events.begin(), def_.events.end(), doc.on_signed);
    if (ev == def_.events.end()) {
      Error(doc.on_signed_mark, msg::Unknown("event", doc.on_signed, Closest(doc.on_signed, def_.events)));
      continue;
    }
    doc.on_signed_event = static_cast<int>(ev - def_.events.begin());
    auto [b, e] = def_.Candidates(doc.collects, doc.on_signed_event);
    if (b == e) {
      Error(doc.on_signed_mark, msg::OnSignedNotFrom(doc.name, doc.on_signed, doc.collects_name));
      continue;
    }
    for (const auto& signer : doc.signers) {
      bool may = false;
      for (const int* i = b; i != e; ++i) {
        const auto& by = def_.transitions[*i].by;
        may = may || std::find(by.begin(), by.end(), signer) != by.end();
      }
      if (!may) Error(doc.on_signed_mark, msg::OnSignedNotBySigner(doc.name, doc.on_signed, signer));
    }
  }
}

}  // namespace mentorflow::loading
