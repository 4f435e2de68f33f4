#include "app/demo.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/agenda.h"
#include "app/documents.h"
#include "app/scenario.h"
#include "app/stats.h"
#include "engine/graph.h"
#include "engine/loader.h"
#include "storage/store.h"

namespace mentorflow::app {
namespace {

namespace fs = std::filesystem;

// "6:agreement:1" -> "6-agreement-1", "1/2026" -> "order-1-2026".
std::string FileNameOf(const DocumentRecord& d) {
  std::string id = d.number.empty() ? d.Id() : "order-" + d.number;
  for (auto& c : id)
    if (c == ':' || c == '/') c = '-';
  return id;
}

// Every current document of the year as an HTML page and an ODT, read (and
// recorded as read) by the director. Returns how many were written.
int WriteDocuments(Store& store, const DemoOptions& o, const std::string& reader, const Now& now, const fs::path& out,
                   std::vector<std::string>* errors) {
  std::vector<DocumentRecord> docs;
  if (Status st = store.Documents("", &docs); !st.ok()) {
    errors->push_back(st.message());
    return 0;
  }
  std::string institution, zone;
  store.GetSetting("institution", &institution);
  store.GetSetting("zone", &zone);
  int written = 0;
  for (const auto& d : docs) {
    if (d.status == "superseded" || !d.erased_at.empty()) continue;
    PrintableDocument p;
    std::string page;
    Status st = Printable(o.templates, institution, zone, d, &p);
    if (st.ok()) st = store.RecordDocumentRead(d, reader, "demo", now);
    if (st.ok()) st = HtmlPage(p, &page);
    const fs::path base = out / FileNameOf(d);
    if (st.ok()) {
      std::ofstream(base.string() + ".html", std::ios::binary) << page;
      st = WriteOdt(p, base.string() + ".odt");
    }
    if (!st.ok()) {
      errors->push_back(d.Id() + ": " + st.message());
      continue;
    }
    std::cout << "  " << base.string() << ".{html,odt}  " << d.title << " (" << d.status << ")\n";
    ++written;
  }
  return written;
}

}  // namespace

int RunDemo(const DemoOptions& o) {
  LoadOptions opts;
  opts.templates_dir = o.templates;
  auto catalog = Catalog::Load({o.workflows}, opts);
  for (const auto& e : catalog.errors()) std::cerr << e.ToString() << "\n";
  if (!catalog.ok()) return 1;
  std::cout << "== " << catalog.definitions().size() << " workflows from " << o.workflows << " are valid:\n";
  for (const auto& d : catalog.definitions())
    std::cout << "  " << d->name << " v" << d->version << ": " << d->states.size() << " states, "
              << d->transitions.size() << " transitions — " << d->title << "\n";

  // The demo's own files are made anew; nothing else in DIR is touched.
  const fs::path dir = o.dir, db = dir / "demo.db", outbox = dir / "outbox.jsonl", out = dir / "out",
                 graphs = dir / "graphs", agenda = dir / "agenda.ics";
  std::error_code ec;
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext, ec);
  fs::remove(outbox, ec);
  fs::remove(agenda, ec);
  fs::remove_all(out, ec);
  fs::remove_all(graphs, ec);
  fs::create_directories(out);
  fs::create_directories(graphs);
  for (const auto& d : catalog.definitions()) std::ofstream(graphs / (d->name + ".mmd")) << ToMermaid(*d);
  std::cout << "== their diagrams (Mermaid): " << graphs.string() << "/\n";

  std::cout << "== a school year at a small centre, on " << db.string() << " (" << o.scenario << ")\n";
  auto report = RunScenarioFile(o.scenario, catalog, {"sqlite:" + db.string(), o.templates, "jsonl:" + outbox.string()},
                                [](const std::string& line) { std::cout << "  " << line << "\n"; });
  for (const auto& f : report.failures) std::cerr << f.ToString() << "\n";
  std::cout << "== " << report.steps << " steps, " << report.fired << " deadline(s) fired, " << report.reminders
            << " reminder(s), " << report.failures.size() << " unexpected outcome(s)\n";
  std::cout << "== " << report.delivered << " reminder(s) delivered, one JSON object a line: " << outbox.string() << "\n";

  Status st;
  auto store = Store::Open("sqlite:" + db.string(), &st, StoreOptions{o.templates, false, ""});
  if (!store) {
    std::cerr << "mentorflow: " << st.message() << "\n";
    return 5;
  }
  const Now& now = report.end;
  std::vector<std::string> errors;
  std::cout << "== the year's documents, to print and sign: " << out.string() << "/\n";
  const int docs = WriteDocuments(*store, o, report.director, now, out, &errors);

  std::string ics;
  if (Status s = AgendaIcs(*store, "", now.today, now.today + date::days{365}, now.instant, &ics); s.ok()) {
    std::ofstream(agenda, std::ios::binary) << ics;
    size_t events = 0;
    for (size_t at = ics.find("BEGIN:VEVENT"); at != std::string::npos; at = ics.find("BEGIN:VEVENT", at + 1)) ++events;
    std::cout << "== the coming year's deadlines, for a calendar: " << agenda.string() << " (" << events
              << " events)\n";
  } else {
    errors.push_back("agenda: " + s.message());
  }

  // The statistics of each calendar year the school year touched.
  const int first = static_cast<int>(date::year_month_day{now.today - date::days{364}}.year());
  const int last = static_cast<int>(date::year_month_day{now.today}.year());
  for (int year = first; year <= last; ++year) {
    std::string text, html, csv;
    Status s = AnnualReport(*store, o.templates, year, now, "text", &text);
    if (s.ok()) s = AnnualReport(*store, o.templates, year, now, "html", &html);
    if (s.ok()) s = AnnualReport(*store, o.templates, year, now, "csv", &csv);
    if (!s.ok()) {
      errors.push_back("stats annual " + std::to_string(year) + ": " + s.message());
      continue;
    }
    const fs::path base = out / ("stats-" + std::to_string(year));
    std::ofstream(base.string() + ".html", std::ios::binary) << html;
    std::ofstream(base.string() + ".csv", std::ios::binary) << csv;
    std::cout << "== statistics for " << year << (year == last ? " so far" : "") << " (stats annual --year " << year
              << "; also " << base.string() << ".{html,csv}), figures above zero:\n";
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto v = line.find_last_of(' ');
      const std::string value = line.substr(v + 1);
      if (value != "0" && value != "-") std::cout << "  " << line << "\n";
    }
  }
  for (const std::string& period : {std::to_string(last) + "-H1", std::to_string(last - 1) + "-H2"}) {
    nlohmann::json m;
    if (!MonitoringSummary(*store, period, &m).ok()) continue;
    std::cout << "== monitoring " << period << ": due " << m["due"].get<std::string>() << ", submitted "
              << m["submitted_on"].get<std::string>() << (m["on_time"].get<bool>() ? " (on time)" : " (late)")
              << ", quality score " << m["results"]["quality_score"].dump() << ", respondents "
              << m["results"]["respondents"].dump() << "\n";
  }
  for (const auto& e : errors) std::cerr << "mentorflow: " << e << "\n";
  std::cout << "== " << docs << " documents; the database stays for you to explore, e.g.\n"
            << "  mentorflow --db sqlite:" << db.string() << " list\n"
            << "  mentorflow --db sqlite:" << db.string() << " reminders --as " << report.director << "\n"
            << "  mentorflow --db sqlite:" << db.string() << " --now " << FormatDate(now.today)
            << " stats annual --year " << first << " --format html > stats.html\n";
  return report.failures.empty() && errors.empty() ? 0 : 5;
}

}  // namespace mentorflow::app
