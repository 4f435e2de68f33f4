// A region on one database (issue 27): many institutions in one PostgreSQL,
// each row an institution's, every statement naming it, and row-level
// security as the second wall; SQLite keeps one institution per file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "app/region.h"
#include "storage/store.h"
#include "tests/test_db.h"
#include "tests/test_support.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace mentorflow {
namespace {

using testing::RunCli;
using testing::TestDatabase;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool NeedPostgres() { return testing::NeedClusterOrFail("the region tests"); }

// `url` with its user (and password) replaced by `user`.
std::string AsUser(const std::string& url, const std::string& user) {
  const auto scheme = url.find("://") + 3, at = url.find('@', scheme);
  return url.substr(0, scheme) + user + url.substr(at);
}

// `url` naming database `db` instead.
std::string OnDatabase(const std::string& url, const std::string& db) {
  return url.substr(0, url.rfind('/') + 1) + db;
}

// The same people, ids and e-mails in every institution of the tests: a
// director, a curator, a mentor and a mentee of age with their consents.
void Populate(const std::string& db, const std::string& institution, const std::string& director_name) {
  auto run = [&](const std::string& args) {
    auto r = RunCli("--db '" + db + "' --institution-id " + institution + " --now 2026-09-01 " + args);
    EXPECT_EQ(r.code, 0) << institution << ": " << args << ": " << r.err;
    return r;
  };
  run("init --zone Europe/Saratov --institution 'Школа " + institution + "'" MF_INSTITUTION_ADDRESS
      " --director d1 --name '" + director_name + "'");
  run("person add c1" MF_PAPERS " --as d1 --name 'Мария Петрова' --role curator --email c1@example.org");
  run("person add m1" MF_PAPERS " --as c1 --name 'Пётр Наставников' --role mentor --birth 1990-01-01"
      " --email m1@example.org");
  run("person add s1" MF_PAPERS " --as c1 --name 'Анна Учащаяся' --role mentee --birth 2007-01-01"
      " --email s1@example.org");
  run("consent sign m1 --as m1");
  run("consent sign s1 --as s1");
  run("start information_support --as c1");
}

long long Number(const soci::row& r, std::size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    default: return std::stoll(r.get<std::string>(i));
  }
}

std::vector<std::string> TablesOf(soci::session& s) {
  std::vector<std::string> out;
  soci::rowset<std::string> rs = (s.prepare << "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                               " ORDER BY tablename");
  for (const auto& t : rs) out.push_back(t);
  return out;
}

// A role of the cluster, dropped at the end of the test with whatever it
// was granted (after the databases that granted it are gone).
class ClusterRole {
 public:
  explicit ClusterRole(const std::string& name) : name_(name) {
    soci::session super(soci::postgresql, PostgresConnectionString(Env("MENTORFLOW_TEST_PG_SUPER")));
    super << "DROP ROLE IF EXISTS " + name_;
    super << "CREATE ROLE " + name_ + " LOGIN NOSUPERUSER NOBYPASSRLS";
  }
  ~ClusterRole() {
    try {
      soci::session super(soci::postgresql, PostgresConnectionString(Env("MENTORFLOW_TEST_PG_SUPER")));
      super << "DROP ROLE IF EXISTS " + name_;
    } catch (...) {
    }
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The catalogue, as the database's superuser reads it: every table of an
// institution has the column, in every key, behind forced row security;
// the role the application connects as owns nothing and bypasses nothing.
TEST(Region, EveryTableBelongsToAnInstitutionBehindForcedRowSecurity) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  ClusterRole app("mf_app_" + std::to_string(getpid()));
  TestDatabase db("postgresql", "region_catalogue");
  ASSERT_TRUE(db.available()) << db.why_not();
  auto init = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --director d1 --name 'Ольга Карпова' --app-role " +
                     app.name());
  ASSERT_EQ(init.code, 0) << init.err;

  const std::string dbname = db.url().substr(db.url().rfind('/') + 1);
  soci::session super(soci::postgresql,
                      PostgresConnectionString(OnDatabase(Env("MENTORFLOW_TEST_PG_SUPER"), dbname)));
  const std::vector<std::string> tables = TablesOf(super);
  ASSERT_GE(tables.size(), 28u);
  for (const auto& t : tables) {
    if (t == "schema_version") continue;  // the database's, not an institution's: one number per migration
    SCOPED_TRACE(t);
    std::string nullable;
    soci::indicator ni = soci::i_null;
    super << "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t"
             " AND column_name = 'institution'",
        soci::into(nullable, ni), soci::use(t);
    ASSERT_EQ(ni, soci::i_ok) << "no institution column";
    EXPECT_EQ(nullable, "NO");
    int enabled = 0, forced = 0, policies = 0;
    super << "SELECT CASE WHEN relrowsecurity THEN 1 ELSE 0 END, CASE WHEN relforcerowsecurity THEN 1 ELSE 0 END"
             " FROM pg_class WHERE relname = :t AND relkind = 'r'",
        soci::into(enabled), soci::into(forced), soci::use(t);
    EXPECT_EQ(enabled, 1) << "row security not enabled";
    EXPECT_EQ(forced, 1) << "row security not forced";
    super << "SELECT COUNT(*) FROM pg_policies WHERE schemaname = 'public' AND tablename = :t", soci::into(policies),
        soci::use(t);
    EXPECT_GE(policies, 1);
    // Every primary, unique and foreign key names the institution.
    soci::rowset<soci::row> keys =
        (super.prepare << "SELECT c.conname, c.contype, CASE WHEN a.attnum = ANY (c.conkey) THEN 1 ELSE 0 END"
                          " FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_attribute a"
                          " ON a.attrelid = r.oid AND a.attname = 'institution' WHERE r.relname = :t"
                          " AND c.contype IN ('p', 'u', 'f')",
         soci::use(t));
    int n = 0;
    for (const auto& k : keys) {
      ++n;
      EXPECT_EQ(Number(k, 2), 1) << k.get<std::string>(0) << " leaves the institution out";
    }
    if (t != "login_failures") EXPECT_GE(n, 1) << "no key";
  }
  // Unique indexes made outside constraints would escape the check above.
  int loose = 0;
  super << "SELECT COUNT(*) FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n"
           " ON n.oid = r.relnamespace AND n.nspname = 'public' JOIN pg_attribute a ON a.attrelid = r.oid"
           " AND a.attname = 'institution' WHERE i.indisunique AND NOT (a.attnum = ANY (CAST(i.indkey AS int2[])))",
      soci::into(loose);
  EXPECT_EQ(loose, 0) << "a unique index without the institution";

  // The application's role, and the test suite's own: neither a superuser
  // nor able to bypass row security; the application's owns nothing.
  for (const std::string& role : {app.name(), std::string("mentorflow")}) {
    SCOPED_TRACE(role);
    int super_flag = 1, bypass = 1, owned = -1;
    super << "SELECT CASE WHEN rolsuper THEN 1 ELSE 0 END, CASE WHEN rolbypassrls THEN 1 ELSE 0 END FROM pg_roles"
             " WHERE rolname = :r",
        soci::into(super_flag), soci::into(bypass), soci::use(role);
    EXPECT_EQ(super_flag, 0);
    EXPECT_EQ(bypass, 0);
    if (role == app.name()) {
      super << "SELECT COUNT(*) FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner WHERE o.rolname = :r",
          soci::into(owned), soci::use(role);
      EXPECT_EQ(owned, 0) << "the application's role owns tables";
    }
  }

  // mentorflow works as that role: a person added, a workflow started, read back.
  const std::string as_app = AsUser(db.url(), app.name());
  auto add = RunCli("--db '" + as_app + "' --now 2026-09-01 person add c1 --as d1 --name 'Мария Петрова' --role curator");
  EXPECT_EQ(add.code, 0) << add.err;
  auto start = RunCli("--db '" + as_app + "' --now 2026-09-01 start information_support --as c1");
  EXPECT_EQ(start.code, 0) << start.err;
  auto list = RunCli("--db '" + as_app + "' list --json");
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("information_support"), std::string::npos);
  // It cannot lift the wall: only a table's owner may.
  soci::session as_app_raw(soci::postgresql, PostgresConnectionString(as_app));
  EXPECT_THROW(as_app_raw << "ALTER TABLE people NO FORCE ROW LEVEL SECURITY", soci::soci_error);
}

// Without an institution set, a connection — the table owner's too — sees
// no row of any table; with another institution's id, none either.
TEST(Region, AConnectionWithNoInstitutionSetReadsNothing) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  TestDatabase db("postgresql", "region_no_institution");
  ASSERT_TRUE(db.available()) << db.why_not();
  Populate(db.url(), "default", "Ольга Карпова");
  for (const std::string& institution : {std::string(), std::string("elsewhere")}) {
    SCOPED_TRACE("institution '" + institution + "'");
    soci::session raw = testing::OpenRaw(db.url(), institution);
    int seen_tables = 0;
    for (const auto& t : TablesOf(raw)) {
      if (t == "schema_version") continue;
      long long n = -1;
      raw << "SELECT COUNT(*) FROM " + t, soci::into(n);
      EXPECT_EQ(n, 0) << t;
      ++seen_tables;
    }
    EXPECT_GE(seen_tables, 27);
    // Nor can it write a row of another institution.
    EXPECT_THROW(raw << "INSERT INTO counters (institution, name, value) VALUES ('default', 'x', 1)", soci::soci_error);
  }
  // '*' lists the institutions (their ids, as tick and deliver go round
  // them, and their names, as a regional server's login page shows them)
  // and shows no other row.
  {
    soci::session listing = testing::OpenRaw(db.url(), "*");
    for (const auto& t : TablesOf(listing)) {
      if (t == "schema_version") continue;
      long long n = -1;
      listing << "SELECT COUNT(*) FROM " + t, soci::into(n);
      EXPECT_EQ(n, t == "institutions" || t == "settings" ? 1 : 0) << t;
    }
    long long other = -1;
    listing << "SELECT COUNT(*) FROM settings WHERE key <> 'institution'", soci::into(other);
    EXPECT_EQ(other, 0) << "of the settings, the name alone";
    EXPECT_THROW(listing << "INSERT INTO institutions (institution, created_at) VALUES ('x', '2026-01-01')",
                 soci::soci_error);
  }
  // The same connection within the institution sees its rows.
  soci::session raw = testing::OpenRaw(db.url(), "default");
  long long people = 0;
  raw << "SELECT COUNT(*) FROM people", soci::into(people);
  EXPECT_EQ(people, 4);
}

// Twin institutions with the same ids, e-mails and numbers: what one does
// never touches the other, and the other's ids answer as not found —
// exactly as an id nobody has.
TEST(Region, TwinInstitutionsShareIdsAndNeverSeeEachOther) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  TestDatabase db("postgresql", "region_twins");
  ASSERT_TRUE(db.available()) << db.why_not();
  Populate(db.url(), "school-a", "Ольга Карпова");
  Populate(db.url(), "school-b", "Ольга Карпова");
  auto in = [&](const std::string& institution, const std::string& args) {
    return RunCli("--db '" + db.url() + "' --institution-id " + institution + " --now 2026-09-02 " + args);
  };
  // B has a person and an instance A does not.
  ASSERT_EQ(in("school-b", "person add b_only --as d1 --name 'Только Б' --role curator").code, 0);
  for (int k = 0; k < 5; ++k) ASSERT_EQ(in("school-b", "start information_support --as c1").code, 0);
  auto b_start = in("school-b", "start information_support --as c1");  // 7: A will have 1 to 3
  ASSERT_EQ(b_start.code, 0) << b_start.err;
  const std::string b_instance = b_start.out.substr(0, b_start.out.find('\n'));
  const std::string twin_before = testing::DumpTables(db.url(), "school-b");
  ASSERT_NE(twin_before.find("b_only"), std::string::npos);

  // A works: people, an instance moved on, a consent revoked, a setting.
  for (const std::string& step : {std::string("person add m2" MF_PAPERS " --as c1 --name 'Второй Наставник' --role mentor"),
                                  std::string("start information_support --as c1"), std::string("list --json"),
                                  std::string("consent revoke s1 --as s1"),
                                  std::string("settings institution 'Школа А, новое имя' --as d1"),
                                  std::string("tick"), std::string("reminders --json --as c1")}) {
    auto r = in("school-a", step);
    EXPECT_EQ(r.code, 0) << step << ": " << r.err;
  }
  auto a_m2 = in("school-a", "person show m2 --as c1 --json");
  EXPECT_EQ(a_m2.code, 0) << a_m2.err;
  EXPECT_NE(a_m2.out.find("Второй Наставник"), std::string::npos);
  EXPECT_TRUE(testing::DumpTables(db.url(), "school-b") == twin_before) << "institution B changed";

  // B's own ids, from A: not found, worded as for an id nobody has.
  auto b_person = in("school-a", "person show b_only --as d1");
  auto nobody = in("school-a", "person show zz_nobody --as d1");
  EXPECT_EQ(b_person.code, 2) << b_person.err;
  EXPECT_EQ(nobody.code, 2);
  EXPECT_EQ(b_person.err.find("Только"), std::string::npos);
  auto b_show = in("school-a", "show " + b_instance + " --as c1");
  auto no_show = in("school-a", "show 999 --as c1");
  EXPECT_EQ(b_show.code, 2) << b_show.out << b_show.err;
  EXPECT_EQ(no_show.code, 2);
  std::string worded = no_show.err;
  if (const auto p = worded.find("999"); p != std::string::npos) worded.replace(p, 3, b_instance);
  EXPECT_EQ(b_show.err, worded);
  EXPECT_EQ(in("school-a", "show 2 --as c1").code, 0);  // A's own second instance
  EXPECT_EQ(in("school-a", "show 4 --as c1").code, 2);  // B has 1 to 7, A has 3
  EXPECT_EQ(in("school-a", "person show d1 --as d1").code, 0);  // A's own d1 answers
  // Acting as B's person from A is acting as nobody.
  auto as_b = in("school-a", "start information_support --as b_only");
  EXPECT_EQ(as_b.code, 2) << as_b.err;
  EXPECT_TRUE(testing::DumpTables(db.url(), "school-b") == twin_before) << "institution B changed";

  // An institution not in the database is not found; a malformed id is refused.
  auto unknown = in("school-c", "list");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("init --institution-id school-c"), std::string::npos) << unknown.err;
  auto bad = in("'School A;'", "list");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("is not an institution id"), std::string::npos) << bad.err;
}

// A region of `n` institutions r0000.. with the same people in each (the
// director d1, the curator c1) and `instances(k)` information_support
// instances in the k-th, started on 1 September 2026: each has a deadline
// due on the 8th (it fires from the 9th) and a reminder to the curator on
// the 6th. Built through the store, one transaction per institution.
void BuildRegion(const std::string& url, int n, const std::function<int(int)>& instances) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("mf_region_wf_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(testing::SourcePath("workflows/information_support.yaml"),
                             dir / "information_support.yaml", std::filesystem::copy_options::overwrite_existing);
  struct RemoveDir {  // init reads the file again to store it
    std::filesystem::path dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove_dir{dir};
  const Catalog catalog = Catalog::Load({dir.string()}, testing::Options());
  ASSERT_EQ(catalog.definitions().size(), 1u);
  Status st;
  auto store = Store::Open(url, &st, StoreOptions{testing::SourcePath("templates"), false, "r0000"});
  ASSERT_TRUE(store) << st.message();
  const Now at = Now::At(*ParseLocalTime("2026-09-01", "Europe/Moscow"), "Europe/Moscow");
  for (int k = 0; k < n; ++k) {
    char id[8];
    std::snprintf(id, sizeof id, "r%04d", k);
    ASSERT_TRUE(store->UseInstitution(id).ok());
    Store::InitOptions init;
    init.zone = "Europe/Moscow";
    init.institution = std::string("Школа ") + id;
    init.director = {"d1", "Ольга Карпова", {"director"}, "", "", ""};
    Status made = store->Init(catalog, at, nullptr, init);
    ASSERT_TRUE(made.ok()) << id << ": " << made.message();
    ASSERT_TRUE(store->AddPerson({"c1", "Мария Петрова", {"curator"}, "", "", "c1@example.org"}, "d1", at).ok());
    const int m = instances(k);
    Status started = store->Batch([&]() -> Status {
      for (int i = 0; i < m; ++i) {
        InstanceRecord rec;
        Refusal refusal;
        if (Status s = store->Start("information_support", {}, "", "c1", at, &rec, &refusal); !s.ok()) return s;
      }
      return Status::Ok();
    });
    ASSERT_TRUE(started.ok()) << id << ": " << started.message();
  }
}

// The database as its superuser sees it: every institution's rows.
soci::session Super(const std::string& url) {
  const auto slash = url.rfind('/');
  const std::string dbname = url.substr(slash + 1, url.find('?', slash) - slash - 1);
  return soci::session(soci::postgresql, PostgresConnectionString(OnDatabase(Env("MENTORFLOW_TEST_PG_SUPER"), dbname)));
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Fair time: one school's backlog of 10 000 deadlines (and of reminders)
// delays none of the 999 others beyond the first round.
TEST(Region, OneSchoolsBacklogDelaysNoOtherBeyondTheFirstRound) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  spdlog::set_level(spdlog::level::warn);
  TestDatabase db("postgresql", "region_fair");
  ASSERT_TRUE(db.available()) << db.why_not();
  const int kInstitutions = 1000, kBusy = 500, kBacklog = 10000;
  auto t0 = std::chrono::steady_clock::now();
  BuildRegion(db.url(), kInstitutions, [&](int k) { return k == kBusy ? kBacklog : 1; });
  if (HasFatalFailure()) return;
  std::printf("region: built %d institutions in %.1f s\n", kInstitutions, Seconds(t0));
  Status st;
  auto store = Store::Open(db.url(), &st, StoreOptions{testing::SourcePath("templates"), false, "r0000"});
  ASSERT_TRUE(store) << st.message();

  // 6 September: every reminder has come due (a tick makes them pending),
  // no deadline yet. One round of delivery: each school has its turn.
  t0 = std::chrono::steady_clock::now();
  auto promote = app::TickRegion(*store, "2026-09-06", 100);
  ASSERT_TRUE(promote.ok()) << promote.status().message();
  ASSERT_TRUE(promote->status.ok()) << promote->status.message();
  long long pending = 0;
  for (const auto& t : promote->turns) pending += t.tick.reminders_due;
  EXPECT_EQ(pending, kBacklog + kInstitutions - 1);
  const std::string first = (std::filesystem::path(::testing::TempDir()) /
                             ("mf_region_first_" + std::to_string(getpid()) + ".jsonl")).string();
  struct Remove {
    std::string file;
    ~Remove() { std::filesystem::remove(file); }
  } remove{first};
  auto sent = app::DeliverRegion(*store, "jsonl:" + first, "2026-09-06", 20, 0, 1);
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  EXPECT_TRUE(sent->status.ok()) << sent->status.message();
  std::set<std::string> served;
  for (const auto& t : sent->turns) {
    EXPECT_EQ(t.round, 1);
    EXPECT_EQ(t.delivery.report.sent, t.institution == "r0500" ? 20 : 1) << t.institution;
    if (t.delivery.report.sent > 0) served.insert(t.institution);
  }
  EXPECT_EQ(served.size(), static_cast<std::size_t>(kInstitutions)) << "a school waited beyond the first round";
  std::printf("region: promoted, and delivered the first round, in %.1f s\n", Seconds(t0));

  // 9 September: every deadline is due. The first round fires the one of
  // each of the 999, and 100 of the backlog; the second only the backlog.
  t0 = std::chrono::steady_clock::now();
  auto fired = app::TickRegion(*store, "2026-09-09", 100, 0, 2);
  ASSERT_TRUE(fired.ok()) << fired.status().message();
  EXPECT_TRUE(fired->status.ok()) << fired->status.message();
  std::size_t quiet_fired = 0;
  for (const auto& t : fired->turns) {
    if (t.institution == "r0500") {
      EXPECT_EQ(t.tick.fired.size(), 100u) << "round " << t.round;
      EXPECT_TRUE(t.tick.more);
    } else {
      EXPECT_EQ(t.round, 1) << t.institution << " had a second turn";
      EXPECT_EQ(t.tick.fired.size(), 1u) << t.institution;
      quiet_fired += t.tick.fired.size();
    }
  }
  EXPECT_EQ(quiet_fired, static_cast<std::size_t>(kInstitutions - 1));
  EXPECT_EQ(fired->turns.size(), static_cast<std::size_t>(kInstitutions + 1));
  std::printf("region: two rounds of firings in %.1f s\n", Seconds(t0));
}

// Four `tick` and four `deliver` processes at once over 1 000 schools:
// every deadline fired once, every reminder sent once.
TEST(Region, FourTicksAndFourDeliveriesOverAThousandSchoolsDoEverythingOnce) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  spdlog::set_level(spdlog::level::warn);
  TestDatabase db("postgresql", "region_four");
  ASSERT_TRUE(db.available()) << db.why_not();
  const int kInstitutions = 1000;
  auto t0 = std::chrono::steady_clock::now();
  BuildRegion(db.url(), kInstitutions, [](int k) { return 1 + k % 2; });
  if (HasFatalFailure()) return;
  std::printf("region: built %d institutions in %.1f s\n", kInstitutions, Seconds(t0));
  std::vector<testing::Run> results(8);
  auto at_once = [&](int from, const std::function<std::string(int)>& args) {
    std::vector<std::thread> runs;
    for (int p = 0; p < 4; ++p)
      runs.emplace_back([&, p] { results[from + p] = RunCli("--db '" + db.url() + "' --now 2026-09-09 " + args(p)); });
    for (auto& r : runs) r.join();
  };
  t0 = std::chrono::steady_clock::now();
  at_once(0, [](int) { return std::string("tick --per-turn 50"); });
  std::printf("region: four ticks in %.1f s\n", Seconds(t0));
  std::vector<std::string> outs;
  struct Remove {
    std::vector<std::string> files;
    ~Remove() {
      for (const auto& f : files) std::filesystem::remove(f);
    }
  } remove;
  for (int p = 0; p < 4; ++p) {
    outs.push_back((std::filesystem::path(::testing::TempDir()) /
                    ("mf_region_out" + std::to_string(p) + "_" + std::to_string(getpid()) + ".jsonl")).string());
    remove.files.push_back(outs.back());
  }
  t0 = std::chrono::steady_clock::now();
  at_once(4, [&](int p) { return "deliver --per-turn 5 --via jsonl:" + outs[p]; });
  std::printf("region: four deliveries in %.1f s\n", Seconds(t0));
  for (const auto& r : results) EXPECT_EQ(r.code, 0) << r.err;
  // Each process went round every school: its summary says so.
  for (int p = 0; p < 8; ++p) EXPECT_NE(results[p].out.find("round(s) over the institutions"), std::string::npos);

  soci::session super = Super(db.url());
  long long instances = 0, once = 0, timers_left = 0, unsent = 0, sent_rows = 0;
  super << "SELECT COUNT(*) FROM instances", soci::into(instances);
  super << "SELECT COUNT(*) FROM (SELECT institution, instance FROM history WHERE event = 'week_missed'"
           " GROUP BY institution, instance HAVING COUNT(*) = 1) t",
      soci::into(once);
  super << "SELECT COUNT(*) FROM timers WHERE due < '2026-09-09'", soci::into(timers_left);
  super << "SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'failed', 'retried')", soci::into(unsent);
  super << "SELECT COUNT(*) FROM reminders WHERE status = 'sent'", soci::into(sent_rows);
  EXPECT_EQ(instances, kInstitutions * 3 / 2);
  EXPECT_EQ(once, instances) << "a deadline fired twice, or not at all";
  EXPECT_EQ(timers_left, 0);
  EXPECT_EQ(unsent, 0);
  EXPECT_EQ(sent_rows, 3 * instances) << "the week's reminder and the escalation to the director and the curator";
  // Every reminder sent went out once: in the files, each id once.
  std::map<long long, int> times;
  for (const auto& f : outs) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) ++times[nlohmann::json::parse(line)["id"].get<long long>()];
  }
  long long twice = 0;
  for (const auto& [id, n] : times) twice += n > 1;
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(static_cast<long long>(times.size()), sent_rows);
}

// Behind PgBouncer's transaction mode, a URL without ?pool=transaction is
// refused at connect (PgBouncer takes no startup options), saying what to add.
TEST(Region, BehindPgBouncerAUrlWithoutPoolSaysToAddIt) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  const std::string bouncer = Env("MENTORFLOW_TEST_PGBOUNCER");
  if (bouncer.empty()) {
    if (Env("CI") == "true") FAIL() << "CI=true: PgBouncer must run (scripts/with-postgres.sh)";
    GTEST_SKIP() << "no PgBouncer";
  }
  TestDatabase db("postgresql", "region_bouncer");
  ASSERT_TRUE(db.available()) << db.why_not();
  const std::string name = db.url().substr(db.url().rfind('/') + 1, db.url().find('?', db.url().rfind('/')) -
                                                                         db.url().rfind('/') - 1);
  auto refused = RunCli("--db 'postgresql://mentorflow@" + bouncer + "/" + name + "' --now 2026-09-01 init");
  EXPECT_EQ(refused.code, 5);
  EXPECT_NE(refused.err.find("add ?pool=transaction"), std::string::npos) << refused.err;
  auto pooled = RunCli("--db 'postgresql://mentorflow@" + bouncer + "/" + name +
                       "?pool=transaction' --now 2026-09-01 init --director d1 --name 'Ольга Карпова'");
  EXPECT_EQ(pooled.code, 0) << pooled.err;
  auto bad = RunCli("--db 'postgresql://mentorflow@" + bouncer + "/" + name + "?pool=session' list");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("pool='session'"), std::string::npos) << bad.err;
}

// SQLite keeps one institution per file: a second is refused, and the
// file's institution is the one the commands act within.
TEST(Region, AnSqliteFileHoldsOneInstitution) {
  TestDatabase db("sqlite", "region_sqlite");
  auto first = RunCli("--db '" + db.url() + "' --now 2026-09-01 --institution-id school-a init --director d1 --name 'Ольга'");
  ASSERT_EQ(first.code, 0) << first.err;
  const std::string before = testing::DumpTables(db.url());
  auto second = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --institution-id school-b --director d1 --name 'Ольга'");
  EXPECT_EQ(second.code, 1);
  EXPECT_NE(second.err.find("holds institution 'school-a'"), std::string::npos) << second.err;
  EXPECT_TRUE(testing::DumpTables(db.url()) == before);
  // Workflows for every institution: a file has one.
  auto shared = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --shared-workflows");
  EXPECT_EQ(shared.code, 1);
  EXPECT_NE(shared.err.find("an SQLite file holds one institution"), std::string::npos) << shared.err;
  EXPECT_TRUE(testing::DumpTables(db.url()) == before);
  auto other = RunCli("--db '" + db.url() + "' --institution-id school-b list");
  EXPECT_EQ(other.code, 2) << other.err;
  EXPECT_NE(other.err.find("no institution 'school-b'"), std::string::npos) << other.err;
  EXPECT_EQ(::setenv("MENTORFLOW_INSTITUTION", "school-b", 1), 0);
  auto by_env = RunCli("--db '" + db.url() + "' list --json");
  ::unsetenv("MENTORFLOW_INSTITUTION");
  EXPECT_EQ(by_env.code, 2) << by_env.err;
  // Without an id, the commands act within the file's one institution.
  auto plain = RunCli("--db '" + db.url() + "' --now 2026-09-01 start information_support --as d1");
  EXPECT_EQ(plain.code, 0) << plain.err;
  auto again = RunCli("--db '" + db.url() + "' --now 2026-09-01 init");
  EXPECT_EQ(again.code, 0) << again.err;
  soci::session raw = testing::OpenRaw(db.url());
  int foreign = -1;
  raw << "SELECT COUNT(*) FROM instances WHERE institution <> 'school-a'", soci::into(foreign);
  EXPECT_EQ(foreign, 0);
}

// Issue 27: "shared regional workflows can be registered once and
// overridden per institution". `init --shared-workflows` registers the
// workflows for the whole database; an institution's `init` then keeps no
// copy of them, and a changed workflow under a new version is its own.
TEST(Region, SharedWorkflowsAreRegisteredOnceAndAnInstitutionOverridesOne) {
  if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
  TestDatabase db("postgresql", "region_shared");
  ASSERT_TRUE(db.available()) << db.why_not();
  auto shared = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --shared-workflows");
  ASSERT_EQ(shared.code, 0) << shared.err;
  Populate(db.url(), "school-a", "Ольга Карпова");
  Populate(db.url(), "school-b", "Ирина Волкова");
  auto count = [&](const std::string& institution, const std::string& where) {
    soci::session s = testing::OpenRaw(db.url(), institution);
    long long n = -1;
    s << "SELECT COUNT(*) FROM workflow_definitions WHERE " + where, soci::into(n);
    return n;
  };
  const long long workflows = count("school-a", "institution = '_shared'");
  EXPECT_GE(workflows, 12) << "every shipped workflow, once";
  EXPECT_EQ(count("school-a", "institution = 'school-a'"), 0) << "no copy of a shared workflow";
  EXPECT_EQ(count("school-b", "institution = 'school-b'"), 0);
  // The schools work on the shared workflows (Populate started one).
  auto list = RunCli("--db '" + db.url() + "' --institution-id school-a --now 2026-09-01 list --as c1 --json");
  ASSERT_EQ(list.code, 0) << list.err;
  const auto started = nlohmann::json::parse(list.out);
  ASSERT_EQ(started.size(), 1u) << list.out;
  EXPECT_EQ(started[0]["workflow"], "information_support");
  const int shared_version = started[0]["version"];

  // school-a overrides information_support with a version of its own.
  const std::string dir = ::testing::TempDir() + "/mf_shared_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  struct Remove {
    std::string dir;
    ~Remove() { std::filesystem::remove_all(dir); }
  } remove{dir};
  std::string text = testing::ReadText(testing::SourcePath("workflows/information_support.yaml"));
  const std::string was = "version: " + std::to_string(shared_version);
  ASSERT_NE(text.find(was), std::string::npos);
  const std::string same_version = text;
  text.replace(text.find(was), was.size(), "version: " + std::to_string(shared_version + 1));
  text += "\n# school-a's own\n";
  std::ofstream(dir + "/information_support.yaml") << text;
  auto own = RunCli("--db '" + db.url() + "' --institution-id school-a --workflows " + dir + " --now 2026-09-02 init");
  ASSERT_EQ(own.code, 0) << own.err;
  EXPECT_EQ(count("school-a", "institution = 'school-a'"), 1);
  auto a = RunCli("--db '" + db.url() + "' --institution-id school-a --now 2026-09-02 start information_support --as c1 --json");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(nlohmann::json::parse(a.out)["version"], shared_version + 1) << "its own, the latest";
  auto b = RunCli("--db '" + db.url() + "' --institution-id school-b --now 2026-09-02 start information_support --as c1 --json");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(nlohmann::json::parse(b.out)["version"], shared_version) << "b keeps the region's";
  // a's instance started on the shared version runs on it still.
  auto shown = RunCli("--db '" + db.url() + "' --institution-id school-a --now 2026-09-02 show " +
                      started[0]["id"].get<std::string>() + " --as c1 --json");
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(nlohmann::json::parse(shown.out)["version"], shared_version);

  // Other content under the region's version number is refused: which one
  // an instance of that version runs would be ambiguous.
  std::filesystem::remove(dir + "/information_support.yaml");
  std::ofstream(dir + "/information_support.yaml") << same_version + "\n# not the region's\n";
  const std::string before = testing::DumpTables(db.url(), "school-b");
  auto clash = RunCli("--db '" + db.url() + "' --institution-id school-b --workflows " + dir + " --now 2026-09-02 init");
  EXPECT_EQ(clash.code, 1) << clash.err;
  EXPECT_NE(clash.err.find("registered for every institution"), std::string::npos) << clash.err;
  EXPECT_EQ(testing::DumpTables(db.url(), "school-b"), before);
  // A school cannot write the region's workflows, even by hand.
  soci::session raw = testing::OpenRaw(db.url(), "school-a");
  EXPECT_THROW(raw << "INSERT INTO workflow_definitions (institution, name, version, source, hash, registered_at)"
                      " VALUES ('_shared', 'x', 1, 'x', 'x', 'x')",
               soci::soci_error);
}

}  // namespace
}  // namespace mentorflow
