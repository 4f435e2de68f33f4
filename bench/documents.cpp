// bench/documents: what documents cost, each beside a baseline run in the
// same process (the machines are shared and noisy: read the ratios).
//
//   1. rendering: the agreement of a real pair, N times each — the raw
//      Mustache render of templates/agreement.mustache (the baseline), then
//      doc render's work for HTML (the printable page with its signature
//      block) and for ODT (the same, written as an OpenDocument file);
//      documents per second and the ratio to the raw render;
//   2. the director's order: 10, 100 and 1 000 pairs awaiting approval on a
//      new SQLite database, one order issued, then timed: signing it (every
//      pair approved in one transaction); seconds per pair and the ratio of
//      each per-pair time to the 10-pair one (linear: near 1);
//   3. with MENTORFLOW_TEST_PG: an order of 200 pairs signed on PostgreSQL,
//      beside its floor (as many plain inserts in one transaction).
//
//   bench_documents [RENDERS]   (default 2000)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/documents.h"
#include "engine/render.h"
#include "bench/support.h"
#include "storage/store.h"

namespace mf = mentorflow;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using mf::bench::Check;

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

const mf::Now kNow = mf::Now::At(*mf::ParseLocalTime("2026-09-01", ""), "");
const std::string kTemplates = MENTORFLOW_SOURCE_DIR "/templates";

// A new store: a SQLite file at `path`, or the PostgreSQL database `url`.
std::unique_ptr<mf::Store> NewStore(const std::string& path, const std::string& url = "") {
  if (url.empty())
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path + ext);
  mf::Status st;
  auto store = mf::Store::Open(url.empty() ? "sqlite:" + path : url, &st, {kTemplates});
  Check(st, path.c_str());
  mf::LoadOptions opts;
  opts.templates_dir = kTemplates;
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, opts);
  mf::Store::InitOptions o;
  o.director = {"d1", "Ольга Карпова", {"director"}, "", "", ""};
  o.institution = "Центр «Радуга»";
  o.institution_address = "г. Саратов, ул. Школьная, д. 5";
  Check(store->Init(catalog, kNow, nullptr, o), "init");
  Check(store->AddPerson({"c1", "Мария Петрова", {"curator"}, "", "", ""}, "d1", kNow), "curator");
  mf::bench::ProgrammeAtWork(*store, "d1", "c1", kNow);
  return store;
}

// `pairs` pairs in `approval`: adults with consents, agreements signed.
std::vector<std::string> PendingPairs(mf::Store& store, int pairs) {
  std::vector<std::string> ids;
  Check(store.Batch([&] {
          for (int k = 0; k < pairs; ++k) {
            const std::string n = std::to_string(k), m = "m" + n, s = "s" + n;
            // What a consent states of them besides the name (152-FZ art. 9 part 4).
            auto papers = [](mf::PersonRecord p) {
              p.address = "г. Саратов, ул. Садовая, д. 1";
              p.document = {"паспорт", "6310 000001", "2020-03-12", "ГУ МВД России по Саратовской области"};
              return p;
            };
            if (auto st = store.AddPerson(papers({m, "Наставник " + n, {"mentor"}, "1990-01-01", "", ""}), "c1", kNow);
                !st.ok())
              return st;
            if (auto st = store.AddPerson(papers({s, "Наставляемый " + n, {"mentee"}, "2000-01-01", "", ""}), "c1", kNow);
                !st.ok())
              return st;
            for (const auto& p : {m, s})
              if (auto st = store.SetConsent(p, true, p, kNow); !st.ok()) return st;
            mf::InstanceRecord rec;
            mf::Refusal r;
            if (auto st = store.Start("mentoring_pair",
                                      {{"mentor", m}, {"mentee", s}, {"form", "virtual"}, {"kind", "volunteer_pupil"}},
                                      "", "c1", kNow, &rec, &r);
                !st.ok())
              return st;
            ids.push_back(rec.id);
            if (auto st = store.Send(rec.id, "submit", {}, "c1", kNow, &rec, &r); !st.ok()) return st;
            for (const auto& p : {m, s})
              if (auto st = store.Sign(rec.id, "agreement", p, kNow, nullptr); !st.ok()) return st;
            if (auto st = store.Sign(rec.id, "duties_consent", m, kNow, nullptr); !st.ok()) return st;
            mf::InstanceRecord plan;  // its individual plan, agreed
            if (auto st = store.Start("individual_plan", {{"mentor", m}, {"mentee", s}}, rec.id, m, kNow, &plan, &r);
                !st.ok())
              return st;
            if (auto st = store.Send(plan.id, "add_item", {{"title", "Цели"}, {"due", "2027-01-15"}}, m, kNow, &plan, &r);
                !st.ok())
              return st;
            if (auto st = store.Send(plan.id, "submit", {}, m, kNow, &plan, &r); !st.ok()) return st;
            for (const auto& p : {m, std::string("c1")})
              if (auto st = store.Sign(plan.id, "plan", p, kNow, nullptr); !st.ok()) return st;
            if (auto st = store.Send(plan.id, "agree", {}, "c1", kNow, &plan, &r); !st.ok()) return st;
            if (auto st = store.Send(rec.id, "ready", {}, "c1", kNow, &rec, &r); !st.ok()) return st;
          }
          return mf::Status::Ok();
        }),
        "pairs");
  return ids;
}

// `pairs` pending pairs, one order issued for them: the seconds its
// signature takes (every pair approved in one transaction).
double SignedOrderSeconds(mf::Store& store, int pairs) {
  PendingPairs(store, pairs);
  mf::DocumentRecord order;
  Check(store.IssueOrder("order_assign_pairs", "c1", kNow, &order), "issue");
  std::vector<std::string> sent;
  std::string status;
  auto t = Clock::now();
  Check(store.SignOrder(order.Id(), "d1", kNow, &status, &sent), "sign");
  const double s = Seconds(t);
  if (static_cast<int>(sent.size()) != pairs) {
    std::fprintf(stderr, "order approved %zu of %d pairs\n", sent.size(), pairs);
    std::exit(1);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int renders = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::string dir = fs::temp_directory_path() / ("mf_bench_documents_" + std::to_string(getpid()));
  fs::create_directories(dir);

  // 1. Rendering one real agreement.
  {
    auto store = NewStore(dir + "/render.db");
    auto ids = PendingPairs(*store, 1);
    mf::DocumentRecord doc;
    Check(store->Document(ids[0], "agreement", &doc), "agreement");
    std::ifstream in(kTemplates + "/agreement.mustache");
    std::stringstream source;
    source << in.rdbuf();
    const nlohmann::json ctx = {{"institution", {{"name", "Центр «Радуга»"}, {"director", "Ольга Карпова"}}},
                                {"mentor", {{"name", "Наставник 0"}}},
                                {"mentee", {{"name", "Наставляемый 0"}}},
                                {"fields", {{"form_title", "Виртуальное"}, {"kind_title", "волонтёр — воспитанник"},
                                            {"months", 9}}},
                                {"today", "01.09.2026"}};
    std::string out;
    auto t = Clock::now();
    for (int i = 0; i < renders; ++i) Check(mf::RenderMustache("agreement", source.str(), ctx, mf::Escape::kHtml, &out), "raw");
    const double raw = renders / Seconds(t);
    t = Clock::now();
    for (int i = 0; i < renders; ++i) {
      mf::PrintableDocument p;
      Check(mf::Printable(kTemplates, "Центр «Радуга»", "Europe/Moscow", doc, &p), "printable");
      Check(mf::HtmlPage(p, &out), "html");
    }
    const double html = renders / Seconds(t);
    const std::string odt = dir + "/a.odt";
    t = Clock::now();
    for (int i = 0; i < renders; ++i) {
      mf::PrintableDocument p;
      Check(mf::Printable(kTemplates, "Центр «Радуга»", "Europe/Moscow", doc, &p), "printable");
      Check(mf::WriteOdt(p, odt), "odt");
    }
    const double odt_rate = renders / Seconds(t);
    std::printf("render x%d: raw mustache %.0f/s (1.00) | html %.0f/s (%.2f of raw) | odt %.0f/s (%.2f of raw)\n",
                renders, raw, html, html / raw, odt_rate, odt_rate / raw);
  }

  // 2. The order: signing approves every listed pair in one transaction.
  double per_pair_10 = 0;
  for (int pairs : {10, 100, 1000}) {
    auto store = NewStore(dir + "/order" + std::to_string(pairs) + ".db");
    const double s = SignedOrderSeconds(*store, pairs), per_pair = s / pairs;
    if (pairs == 10) per_pair_10 = per_pair;
    std::printf("sign order of %4d pairs: %.3f s, %.2f ms per pair (ratio to 10 pairs: %.2f)\n", pairs, s,
                per_pair * 1e3, per_pair / per_pair_10);
  }

  // 3. PostgreSQL (fsync as the cluster has it): an order of 200 pairs,
  // beside its floor in the same run: as many plain inserts of a 300-byte
  // row, one round trip each, in one transaction.
  if (std::getenv("MENTORFLOW_TEST_PG")) {
    const int pairs = renders >= 100 ? 200 : 10;  // the smoke run (make test): 10
    const std::string url = mf::bench::FreshDatabase("postgresql", "mf_bench_order");
    double order_s = 0;
    {
      auto store = NewStore("PostgreSQL", url);
      order_s = SignedOrderSeconds(*store, pairs);
    }
    double floor_s = 0;
    {
      soci::session sql(soci::postgresql, mf::PostgresConnectionString(url));
      sql << "CREATE TABLE floor_rows (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)";
      const std::string payload(300, 'x');
      auto t = Clock::now();
      sql << "BEGIN";
      for (long i = 0; i < pairs; ++i)
        sql << "INSERT INTO floor_rows (id, payload) VALUES (:i, :p)", soci::use(i), soci::use(payload);
      sql << "COMMIT";
      floor_s = Seconds(t);
    }
    mf::bench::DropDatabase(url);
    std::printf("sign order of %4d pairs (PostgreSQL): %.3f s, %.2f ms per pair, %.1fx the floor's time"
                " (%d inserts in one transaction: %.1f ms)\n",
                pairs, order_s, order_s / pairs * 1e3, order_s / floor_s, pairs, floor_s * 1e3);
  } else {
    std::printf("PostgreSQL: skipped (set MENTORFLOW_TEST_PG, or run under scripts/with-postgres.sh)\n");
  }
  fs::remove_all(dir);
  return 0;
}
