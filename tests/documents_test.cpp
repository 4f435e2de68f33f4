// Documents: the lifecycle machine, the shipped templates as XHTML the
// converters take, the ODT package's structure, HTML and ODT escaping, and
// on both backends through the command line: issue, list, render, sign,
// refusals of altered and superseded documents, PDF through LibreOffice.
#include <gtest/gtest.h>

#include <sstream>
#include <libxml/parser.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/documents.h"
#include "engine/document_lifecycle.h"
#include "engine/render.h"
#include "tests/store_fixture.h"

namespace mentorflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kInjection = "<script>alert('x')</script> & Co";

TEST(Documents_Lifecycle, SignaturesMoveAnIssueToSignedAndNothingSignsItAfter) {
  using S = DocumentStatus;
  using E = DocumentEvent;
  EXPECT_EQ(AdvanceDocument(S::kIssued, E::kSign, false).to, S::kPartlySigned);
  EXPECT_EQ(AdvanceDocument(S::kIssued, E::kSign, true).to, S::kSigned);
  EXPECT_EQ(AdvanceDocument(S::kPartlySigned, E::kSign, false).to, S::kPartlySigned);
  EXPECT_EQ(AdvanceDocument(S::kPartlySigned, E::kSign, true).to, S::kSigned);
  for (S from : {S::kSigned, S::kRevoked, S::kExpired, S::kSuperseded}) {
    auto step = AdvanceDocument(from, E::kSign, true);
    EXPECT_EQ(step.status.rule(), "document") << DocumentStatusName(from);
    EXPECT_EQ(step.to, from);
  }
  EXPECT_NE(AdvanceDocument(S::kSuperseded, E::kSign).status.message().find("superseded by a re-issue"),
            std::string::npos);
  EXPECT_EQ(AdvanceDocument(S::kSigned, E::kRevoke).to, S::kRevoked);
  // A signed consent expires when its purpose is achieved (152-FZ art. 21
  // part 4); a finished instance expires only its unsigned documents.
  EXPECT_EQ(AdvanceDocument(S::kSigned, E::kExpire).to, S::kExpired);
  EXPECT_EQ(AdvanceDocument(S::kPartlySigned, E::kExpire).to, S::kExpired);
  for (S from : {S::kIssued, S::kPartlySigned, S::kSigned, S::kRevoked, S::kExpired})
    EXPECT_EQ(AdvanceDocument(from, E::kSupersede).to, S::kSuperseded);
  EXPECT_EQ(AdvanceDocument(S::kSuperseded, E::kSupersede).status.rule(), "document");
  for (S s : {S::kIssued, S::kPartlySigned, S::kSigned, S::kRevoked, S::kExpired, S::kSuperseded})
    EXPECT_EQ(ParseDocumentStatus(DocumentStatusName(s)), s);
  EXPECT_FALSE(ParseDocumentStatus("lost"));
}

// Every shipped document template, rendered with Cyrillic names and a name
// that tries to inject markup, is XHTML the HTML and ODT converters take.
TEST(Documents_Templates, EveryShippedTemplateRendersToXhtmlTheConvertersTake) {
  const json person = {{"id", "p1"}, {"name", std::string("Пётр ") + kInjection}, {"birth", "02.04.2013"}};
  const json ctx = {{"institution", {{"name", "Центр «Радуга»"}, {"director", person}}},
                    {"today", "01.09.2026"},
                    {"mentor", person},
                    {"mentee", person},
                    {"guardian", person},
                    {"person", person},
                    {"curator", person},
                    {"fields", {{"form_title", "Виртуальное"}, {"kind_title", "волонтёр — воспитанник"},
                                {"months", "9"}, {"year", "2026"}}},
                    {"items", json::array({{{"title", kInjection}, {"due", "01.10.2026"}, {"status_title", "план"}}})},
                    {"places", json::array({{{"title", "Наставник"}, {"name", kInjection}, {"signed", true}}})},
                    {"document", {{"id", "1:agreement:1"}, {"sha256", "ab"}}}};
  int templates = 0;
  for (const auto& entry : fs::directory_iterator(SourcePath("templates"))) {
    if (entry.path().extension() != ".mustache") continue;
    ++templates;
    const std::string name = entry.path().stem().string();
    std::string out;
    ASSERT_TRUE(RenderDocumentTemplate(SourcePath("templates"), name, ctx, &out).ok()) << name;
    EXPECT_TRUE(CheckXhtml(out).ok()) << name << ": " << CheckXhtml(out).message();
    EXPECT_EQ(out.find("<script>"), std::string::npos) << name;
  }
  EXPECT_GE(templates, 7);
}

TEST(Documents_Xhtml, AnElementTheConvertersDoNotKnowIsAnErrorNamingIt) {
  EXPECT_TRUE(CheckXhtml("<h1>a</h1><p>b <strong>c</strong><br/>d</p><ul><li>e</li></ul>").ok());
  auto div = CheckXhtml("<p>a</p><div>b</div>");
  EXPECT_EQ(div.code(), Code::kBadInput);
  EXPECT_NE(div.message().find("<div>"), std::string::npos) << div.message();
  EXPECT_NE(CheckXhtml("<p><ul><li>x</li></ul></p>").message().find("<ul> inside <p>"), std::string::npos);
  auto broken = CheckXhtml("<p>a</b>");
  EXPECT_EQ(broken.code(), Code::kBadInput);
  EXPECT_NE(broken.message().find("not well-formed"), std::string::npos) << broken.message();
}

PrintableDocument Sample() {
  return {std::string("Соглашение ") + kInjection,
          "<h1>Соглашение</h1><p>Наставник: Анна &lt;script&gt; &amp; Co</p><ul><li>первое</li><li>второе</li></ul>"
          "<table><tr><th>Сторона</th><th>Подпись</th></tr><tr><td>Наставник</td></tr></table>",
          "<p>Подписи</p>"};
}

std::string Entry(zip_t* za, const char* name) {
  zip_stat_t st;
  if (zip_stat(za, name, 0, &st) != 0) return {};
  std::string data(st.size, '\0');
  zip_file_t* f = zip_fopen(za, name, 0);
  if (!f) return {};
  zip_fread(f, data.data(), st.size);
  zip_fclose(f);
  return data;
}

bool WellFormed(const std::string& xml) {
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "x.xml", "UTF-8",
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) return false;
  xmlFreeDoc(doc);
  return true;
}

// The content.xml of the ODT at `path`, after checking it is a package a
// reader takes: `mimetype` first and stored, a well-formed manifest. Empty
// (and the test failed) if not.
std::string OdtContent(const std::string& path) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!za) {
    ADD_FAILURE() << path << " is not a zip package";
    return {};
  }
  zip_stat_t first;
  const bool mimetype_first = zip_stat_index(za, 0, 0, &first) == 0 && std::string(first.name) == "mimetype" &&
                              first.comp_method == ZIP_CM_STORE;
  EXPECT_TRUE(mimetype_first) << path << ": 'mimetype' is not the first entry, stored";
  EXPECT_TRUE(WellFormed(Entry(za, "META-INF/manifest.xml"))) << path;
  const std::string content = Entry(za, "content.xml");
  zip_close(za);
  return content;
}

TEST(Documents_Odt, IsAnOpenDocumentPackageWithEscapedText) {
  const std::string path = ::testing::TempDir() + "/mf_doc_" + std::to_string(getpid()) + ".odt";
  ASSERT_TRUE(WriteOdt(Sample(), path).ok());
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  ASSERT_NE(za, nullptr);
  // The package: `mimetype` first, stored, with the exact type.
  zip_stat_t first;
  ASSERT_EQ(zip_stat_index(za, 0, 0, &first), 0);
  EXPECT_STREQ(first.name, "mimetype");
  EXPECT_EQ(first.comp_method, ZIP_CM_STORE);
  EXPECT_EQ(Entry(za, "mimetype"), "application/vnd.oasis.opendocument.text");
  // The file's first bytes say so too, as readers sniff them.
  {
    std::ifstream in(path, std::ios::binary);
    std::string head(80, '\0');
    in.read(head.data(), 80);
    EXPECT_NE(head.find("mimetypeapplication/vnd.oasis.opendocument.text"), std::string::npos);
  }
  const std::string manifest = Entry(za, "META-INF/manifest.xml"), content = Entry(za, "content.xml"),
                    styles = Entry(za, "styles.xml"), meta = Entry(za, "meta.xml");
  for (const auto* part : {&manifest, &content, &styles, &meta}) EXPECT_TRUE(WellFormed(*part)) << *part;
  for (const char* entry : {"content.xml", "styles.xml", "meta.xml"})
    EXPECT_NE(manifest.find(std::string("manifest:full-path=\"") + entry + "\""), std::string::npos) << entry;
  // Paragraphs, headings, lists and tables as ODF elements, the text escaped.
  EXPECT_NE(content.find("<text:h text:style-name=\"Heading_20_1\" text:outline-level=\"1\">Соглашение</text:h>"),
            std::string::npos);
  EXPECT_NE(content.find("Анна &lt;script&gt; &amp; Co"), std::string::npos) << content;
  EXPECT_EQ(content.find("<script"), std::string::npos);
  EXPECT_NE(content.find("<text:list text:style-name=\"L_bullet\">"), std::string::npos);
  EXPECT_NE(content.find("<table:table-column table:number-columns-repeated=\"2\"/>"), std::string::npos);
  EXPECT_EQ(content.find("<br"), std::string::npos);
  EXPECT_NE(meta.find("Соглашение &lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; Co"), std::string::npos)
      << meta;
  EXPECT_NE(styles.find("fo:page-width=\"21cm\""), std::string::npos);
  zip_close(za);
  fs::remove(path);
}

TEST(Documents_Html, IsAPrintReadyPageWithEscapedText) {
  std::string page;
  ASSERT_TRUE(HtmlPage(Sample(), &page).ok());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<html lang=\"ru\">"), std::string::npos);
  EXPECT_NE(page.find("size: A4"), std::string::npos);
  EXPECT_NE(page.find("<title>Соглашение &lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

// ---- on the store ----------------------------------------------------------

class Documents : public CliDatabase {
 protected:
  void SetUp() override {
    CliDatabase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const std::string& p : std::vector<std::string>{
             "m1 --name 'Анна Смирнова' --role mentor --birth 1990-03-01",
             "g1 --name 'Ольга Иванова' --role guardian --birth 1985-01-01",
             "s1 --name 'Петя <script>alert(1)</script> & Co' --role mentee --birth 2013-04-02 --guardian g1"})
      ASSERT_EQ(Db("person add " + p + MF_PAPERS " --as c1", "2026-09-01").code, 0) << p;
    ProgrammeAtWork();
    auto r = Db("start mentoring_pair --as c1 --set mentor=m1 --set mentee=s1 --set guardian=g1 --set form=virtual"
                " --set kind=volunteer_pupil",
                "2026-09-01");
    ASSERT_EQ(r.code, 0) << r.err;
    pair_ = r.out.substr(0, r.out.find('\n'));
    ASSERT_EQ(Db("send " + pair_ + " submit --as c1", "2026-09-01").code, 0);
    dir_ = ::testing::TempDir() + "/mf_docs_" + std::to_string(getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string pair_, dir_;
};

TEST_P(Documents, EnteringAStateIssuesItsDocumentsAsRecords) {
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-01").code, 0);
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-01").code, 0);
  auto docs = Json("doc list --as d1 " + pair_, "2026-09-01");
  ASSERT_EQ(docs.size(), 4u) << docs.dump(2);
  std::set<std::string> kinds;
  for (const auto& d : docs) {
    kinds.insert(d["kind"]);
    for (const char* key : {"id", "kind", "instance", "status", "sha256", "issued", "signers"})
      EXPECT_TRUE(d.contains(key)) << key;
    EXPECT_EQ(d["sha256"].get<std::string>().size(), 64u);
    if (d["kind"] == "agreement" || d["kind"] == "duties_consent") {
      EXPECT_EQ(d["status"], "issued");
      EXPECT_EQ(d["instance"], pair_);
    } else {  // each participant's own consent, signed when given
      EXPECT_EQ(d["status"], "signed");
      EXPECT_TRUE(d["instance"].is_null());
      EXPECT_EQ(d["title"], "Согласие на обработку персональных данных");
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"agreement", "duties_consent", "consent"}));
  auto consent = Json("doc show --as d1 consent:s1", "2026-09-01");
  EXPECT_EQ(consent["id"], "consent:s1:1");
  // A child of 13: their own line, signed in their place by the guardian
  // on the representative's line below it.
  ASSERT_EQ(consent["signers"].size(), 2u);
  EXPECT_EQ(consent["signers"][0]["person"], "s1");
  EXPECT_TRUE(consent["signers"][0]["signed_at"].is_null());
  EXPECT_EQ(consent["signers"][1]["person"], "g1");
  EXPECT_EQ(consent["signers"][1]["for"], "s1");
  EXPECT_EQ(consent["signers"][1]["representative"], true);
  EXPECT_EQ(consent["signers"][1]["capacity"], "guardian of s1");
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  auto one = Json("doc show --as d1 " + pair_ + ":agreement", "2026-09-02");
  EXPECT_EQ(one["id"], pair_ + ":agreement:1");
  EXPECT_EQ(one["status"], "partly_signed");
  // Issue 26, finding 4: the pair has no guardian field set, yet the
  // minor's registered guardian has a line of their own.
  ASSERT_EQ(one["signers"].size(), 3u);
  EXPECT_EQ(one["signers"][2]["person"], "g1");
  EXPECT_EQ(one["signers"][2]["for"], "s1");
  EXPECT_EQ(one["signers"][2]["representative"], true);
  EXPECT_EQ(one["signers"][0]["person"], "m1");
  EXPECT_EQ(one["signers"][0]["as"], "mentor");
  EXPECT_EQ(one["signers"][0]["capacity"], "self");
  EXPECT_FALSE(one["signers"][0]["signed_at"].is_null());
  EXPECT_EQ(one["signers"][1]["person"], "s1");
  EXPECT_TRUE(one["signers"][1]["signed_at"].is_null());
  auto refused = Db("doc show --as d1 " + pair_ + ":order", "2026-09-02");
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_EQ(Db("doc show --as d1 999:agreement", "2026-09-02").code, 2);
  EXPECT_EQ(Db("doc show --as d1 " + pair_ + ":agreement:x", "2026-09-02").code, 1);
}

TEST_P(Documents, EachDocumentRendersToHtmlAndOdtWithTheNamesEscaped) {
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-01").code, 0);
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-01").code, 0);
  for (const std::string& doc : {pair_ + ":agreement", std::string("consent:s1"), std::string("consent:m1")}) {
    const std::string kind = doc.substr(doc.find(':') + 1);
    const std::string html = dir_ + "/" + kind + ".html", odt = dir_ + "/" + kind + ".odt";
    auto h = Db("doc render " + doc + " --as c1 --out " + html, "2026-09-02");
    ASSERT_EQ(h.code, 0) << kind << ": " << h.err;
    const std::string page = ReadText(html);
    EXPECT_NE(page.find(kind == "m1" ? "Анна Смирнова" : "Петя &lt;script&gt;"), std::string::npos) << kind;
    EXPECT_EQ(page.find("<script>"), std::string::npos) << kind;
    if (kind == "s1") {  // a minor's consent: the guardian gives it, for the child
      EXPECT_NE(page.find("законный представитель (родитель, усыновитель, опекун или попечитель)"), std::string::npos);
      EXPECT_NE(page.find("Подпись: ____________ / Ольга Иванова /"), std::string::npos);
    }
    auto o = Db("doc render " + doc + " --as c1 --format odt --out " + odt, "2026-09-02");
    ASSERT_EQ(o.code, 0) << kind << ": " << o.err;
    const std::string content = OdtContent(odt);
    EXPECT_TRUE(WellFormed(content)) << kind;
    EXPECT_EQ(content.find("<script"), std::string::npos) << kind;
    if (kind != "m1") {  // the guardian
      EXPECT_NE(content.find("Ольга Иванова"), std::string::npos) << kind;
    }
  }
  EXPECT_EQ(Db("doc render " + pair_ + ":agreement --as c1 --format odt", "2026-09-02").code, 1);  // needs --out
}

TEST_P(Documents, AnAlteredDocumentIsNeitherSignedNorPrinted) {
  ExecSql(db_->url(), "UPDATE documents SET content = REPLACE(content, 'Анна', 'Инна') WHERE name = 'agreement'");
  const std::string before = DumpTables(db_->url());
  auto sign = Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02");
  EXPECT_EQ(sign.code, 3) << sign.err;
  EXPECT_NE(sign.err.find("no longer matches the SHA-256"), std::string::npos) << sign.err;
  auto render = Db("doc render " + pair_ + ":agreement --as c1 --out " + dir_ + "/x.html", "2026-09-02");
  EXPECT_EQ(render.code, 3) << render.err;
  EXPECT_FALSE(fs::exists(dir_ + "/x.html"));
  EXPECT_EQ(DumpTables(db_->url()), before);
  EXPECT_EQ(Json("doc show --as d1 " + pair_ + ":agreement", "2026-09-02")["intact"], false);
}

// Reading personal data is allowed to the people concerned, curators and the
// director, and each read is written in the history of everyone named.
TEST_P(Documents, EveryReadOfPersonalDataIsRecordedAndStrangersAreRefused) {
  ASSERT_EQ(Db("person add m2" MF_PAPERS " --name 'Илья Орлов' --role mentor --birth 1991-01-01 --as c1", "2026-09-01").code, 0);
  const std::string before = DumpTables(db_->url());
  // Not theirs reads as not there (issue 23, finding 7).
  auto stranger = Db("doc render " + pair_ + ":agreement --as m2", "2026-09-02");
  EXPECT_EQ(stranger.code, 2) << stranger.err;
  EXPECT_NE(stranger.err.find("no instance '" + pair_ + "'"), std::string::npos) << stranger.err;
  EXPECT_EQ(stranger.out, "");
  EXPECT_EQ(Db("doc render " + pair_ + ":agreement", "2026-09-02").code, 1);  // who reads? --as
  EXPECT_EQ(Db("person show s1 --as m2", "2026-09-02").code, 2);
  EXPECT_EQ(Db("person show s1 --as m1", "2026-09-02").code, 2);  // the mentor is not the child's guardian
  EXPECT_EQ(Db("person show nobody9 --as c1", "2026-09-02").code, 2);
  EXPECT_EQ(DumpTables(db_->url()), before);

  ASSERT_EQ(Db("doc render " + pair_ + ":agreement --as g1 --out " + dir_ + "/a.html", "2026-09-02").code, 0);
  auto shown = Json("person show s1 --as g1", "2026-09-02");
  EXPECT_EQ(shown["name"], "Петя <script>alert(1)</script> & Co");
  EXPECT_EQ(shown["birth"], "2013-04-02");
  EXPECT_EQ(shown["guardian"], "g1");
  // s1 is 13: their guardian reads for them (issue 23, finding 5), not they.
  EXPECT_EQ(Db("person show s1 --as s1", "2026-09-02").code, 3);
  const std::string dump = DumpTables(db_->url());
  for (const char* read : {"s1|2|", "s1|3|"}) EXPECT_NE(dump.find(read), std::string::npos) << read;
  EXPECT_EQ(dump.find("s1|4|"), std::string::npos);
  EXPECT_NE(dump.find("|g1|self|read|doc render " + pair_ + ":agreement:1 (html)|"), std::string::npos) << dump;
  EXPECT_NE(dump.find("|g1|self|read|person show|"), std::string::npos);
  EXPECT_EQ(dump.find("|s1|self|read|person show|"), std::string::npos);
  // Everyone the agreement names gets the entry: the mentor and the guardian too.
  EXPECT_NE(dump.find("m1|2|"), std::string::npos);
}

// 152-FZ art. 14: everything stored about a person, for them, their guardian,
// a curator or the director; the export itself is recorded.
TEST_P(Documents, ExportGivesEverythingStoredAboutAPersonToThoseAllowed) {
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as g1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("person add m2" MF_PAPERS " --name 'Илья Орлов' --role mentor --birth 1991-01-01 --as c1", "2026-09-01").code, 0);
  const std::string before = DumpTables(db_->url());
  for (const char* who : {"m2", "m1", "s1"}) {  // s1 is 13: their guardian exports for them
    auto r = Db(std::string("person export s1 --as ") + who, "2026-09-03");
    EXPECT_EQ(r.code, std::string(who) == "s1" ? 3 : 2) << who << ": " << r.err;  // others: as if no s1
    EXPECT_EQ(r.out, "") << who;
  }
  EXPECT_EQ(Db("person export s1 --as nobody9", "2026-09-03").code, 2);  // no such person
  EXPECT_EQ(Db("person export nobody9 --as c1", "2026-09-03").code, 2);
  EXPECT_EQ(Db("person export s1", "2026-09-03").code, 1);
  EXPECT_EQ(DumpTables(db_->url()), before);

  for (const char* who : {"g1", "c1"}) {
    auto e = Json(std::string("person export s1 --as ") + who, "2026-09-03");
    EXPECT_EQ(e["person"]["name"], "Петя <script>alert(1)</script> & Co") << who;
    EXPECT_EQ(e["person"]["birth"], "2013-04-02");
    EXPECT_EQ(e["person"]["guardian"], "g1");
    EXPECT_EQ(e["person"]["roles"], json::array({"mentee"}));
    ASSERT_EQ(e["instances"].size(), 1u) << e.dump(2);
    EXPECT_EQ(e["instances"][0]["id"], pair_);
    EXPECT_EQ(e["instances"][0]["named_as"], json::array({"mentee"}));
    EXPECT_GE(e["instances"][0]["history"].size(), 2u);  // start, submit
    ASSERT_EQ(e["documents_signed"].size(), 1u) << e.dump(2);
    EXPECT_EQ(e["documents_signed"][0]["id"], pair_ + ":agreement:1");
    EXPECT_EQ(e["documents_signed"][0]["capacity"], "guardian of s1");
    ASSERT_EQ(e["consents"].size(), 1u);
    EXPECT_EQ(e["consents"][0]["id"], "consent:s1:1");
    EXPECT_EQ(e["consents"][0]["status"], "signed");
    EXPECT_EQ(e["consents"][0]["signed_by"], "g1");
    EXPECT_EQ(e["exported"]["by"], who);
  }
  auto g = Json("person export g1 --as g1", "2026-09-03");
  EXPECT_EQ(g["guardian_of"], json::array({"s1"}));
  EXPECT_EQ(g["documents_signed"].size(), 1u);
  // Each export is a read in the history, the later exports show the earlier.
  auto again = Json("person export s1 --as c1", "2026-09-04");
  int reads = 0;
  for (const auto& h : again["person_history"])
    if (h["event"] == "read" && h["note"] == "person export") ++reads;
  EXPECT_EQ(reads, 2);  // g1's and c1's
}

// Every byte of the database as stored: the SQLite file with its WAL, or a
// pg_dump of the PostgreSQL database.
std::string StoredBytes(const TestDatabase& db) {
  if (db.backend() == "sqlite") return ReadText(db.path()) + ReadText(db.path() + "-wal");
  const std::string out = ::testing::TempDir() + "/mf_dump_" + std::to_string(getpid()) + ".sql";
  // The test's role is bound by row security: pg_dump reads what the
  // institution's rows are, as the role may (--enable-row-security).
  EXPECT_EQ(std::system(("PGOPTIONS='-c mentorflow.institution=default' pg_dump --no-owner --enable-row-security '" +
                         db.url() + "' > '" + out + "'")
                            .c_str()),
            0);
  std::string text = ReadText(out);
  fs::remove(out);
  return text;
}

// 152-FZ art. 21: after revocation the data is destroyed — no copy of the
// name or the birth date remains in the stored bytes — and the act stays.
TEST_P(Documents, EraseLeavesNoTraceOfTheNameAndWritesTheAct) {
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc render " + pair_ + ":agreement --as g1 --out " + dir_ + "/a.html", "2026-09-02").code, 0);
  const std::string name = "Петя <script>alert(1)</script> & Co";
  ASSERT_NE(StoredBytes(*db_).find("Петя"), std::string::npos);
  // Refused while the pair runs with a valid consent, by a stranger, for nobody.
  std::string before = DumpTables(db_->url());
  auto early = Db("person erase s1 --as c1", "2026-09-03");
  EXPECT_EQ(early.code, 3);
  EXPECT_NE(early.err.find("named by running instances (" + pair_ + ") and their consent is valid"), std::string::npos)
      << early.err;
  EXPECT_EQ(Db("person erase nobody9 --as c1", "2026-09-03").code, 2);
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("consent revoke s1 --as g1", "2026-09-05").code, 0);
  before = DumpTables(db_->url());
  for (const char* who : {"m1", "g1", "s1"}) EXPECT_EQ(Db(std::string("person erase s1 --as ") + who, "2026-09-06").code, 3);
  EXPECT_EQ(DumpTables(db_->url()), before);

  auto erased = Db("person erase s1 --as c1", "2026-09-06");
  ASSERT_EQ(erased.code, 0) << erased.err;
  EXPECT_NE(erased.out.find("act:s1"), std::string::npos);
  const std::string bytes = StoredBytes(*db_);
  for (const std::string& trace : {std::string("Петя"), std::string("2013-04-02"), std::string("02.04.2013")})
    EXPECT_EQ(bytes.find(trace), std::string::npos) << trace;
  EXPECT_NE(bytes.find("Анна Смирнова"), std::string::npos);  // the mentor is still there
  // The history stays, pseudonymous; the pair is still suspended, its texts destroyed.
  EXPECT_EQ(Json("show --as d1 " + pair_, "2026-09-06")["state"], "suspended");
  EXPECT_GE(Json("history --as d1 " + pair_, "2026-09-06").size(), 4u);
  auto gone = Db("doc render " + pair_ + ":agreement --as c1", "2026-09-06");
  EXPECT_EQ(gone.code, 3);
  EXPECT_NE(gone.err.find("was destroyed on 2026-09-0"), std::string::npos) << gone.err;
  auto shown = Json("person show s1 --as c1", "2026-09-06");
  EXPECT_EQ(shown["name"].get<std::string>().rfind("erased-", 0), 0u) << shown.dump();
  EXPECT_TRUE(shown["birth"].is_null() || shown["birth"] == "");
  // The act: whose data, which categories, when, by whom, on what grounds, the history.
  auto act = Db("doc render act:s1 --as c1", "2026-09-06");
  ASSERT_EQ(act.code, 0) << act.err;
  for (const char* text : {"Акт об уничтожении персональных данных", "идентификатором s1", "фамилия, имя, отчество",
                           "дата рождения", "отозвано субъектом", "consent:s1:1", "Мария Петрова", "consent_revoked",
                           pair_.c_str()})
    EXPECT_NE(act.out.find(text), std::string::npos) << text;
  EXPECT_EQ(act.out.find("Петя"), std::string::npos);
  EXPECT_EQ(Db("person erase s1 --as c1", "2026-09-07").code, 3);  // once
  EXPECT_EQ(Db("consent sign s1 --as g1", "2026-09-07").code, 3);  // nobody to consent: no birth date
}

// Erasure destroys what is the person's and leaves what is someone else's:
// a namesake's documents (the same name, the same birthday), and a name
// that only begins like theirs ("Иван" in "Иванова"). A piece of their data
// that no one else has is still found wherever it is.
TEST_P(Documents, EraseLeavesWhatIsSomeoneElses) {
  const std::string on = "2026-09-02";
  for (const std::string& p : std::vector<std::string>{
           "y1 --name 'Анна Смирнова' --role mentor --birth 1990-03-01",  // m1's namesake, born the same day
           "z1 --name 'Вася Новиков' --role mentee --birth 2000-05-05",
           "x1 --name 'Иван' --role mentor --birth 1980-01-01",          // g1 is Ольга Иванова
           // LIKE's own characters in a name: found as written, not as a pattern.
           "w1 --name 'Пётр Уходящий_100%\\' --role mentor --birth 1981-01-01"})
    ASSERT_EQ(Db("person add " + p + MF_PAPERS " --as c1", on).code, 0) << p;
  for (const char* who : {"m1", "g1", "y1", "z1", "x1", "w1"})
    ASSERT_EQ(Db(std::string("consent sign ") + who + " --as " + who, on).code, 0) << who;
  auto second = Db("start mentoring_pair --as c1 --set mentor=y1 --set mentee=z1 --set form=virtual"
                   " --set kind=volunteer_pupil",
                   on);
  ASSERT_EQ(second.code, 0) << second.err;
  const std::string pair2 = second.out.substr(0, second.out.find('\n'));
  ASSERT_EQ(Db("send " + pair2 + " submit --as c1", on).code, 0);
  ASSERT_EQ(Db("send " + pair2 + " terminate_by_curator --as c1 --set 'termination_reason=Наставника заменит Пётр Уходящий_100%\\'",
               on).code,
            0);
  auto text = [&](const std::string& doc) {
    auto r = Db("doc render " + doc + " --as c1", on);
    EXPECT_EQ(r.code, 0) << doc << ": " << r.err;
    return r.out;
  };
  const std::string agreement = text(pair_ + ":agreement"), m1_consent = text("consent:m1"),
                    g1_consent = text("consent:g1");
  ASSERT_NE(agreement.find("Анна Смирнова"), std::string::npos);
  ASSERT_NE(m1_consent.find("01.03.1990"), std::string::npos);
  ASSERT_NE(g1_consent.find("Ольга Иванова"), std::string::npos);
  ASSERT_NE(text(pair2 + ":agreement").find("Анна Смирнова"), std::string::npos);
  ASSERT_NE(Json("history --as d1 " + pair2, on).dump().find("Пётр Уходящий"), std::string::npos);

  for (const char* who : {"y1", "x1", "w1"}) {
    auto r = Db(std::string("person erase ") + who + " --as c1", "2026-09-03");
    ASSERT_EQ(r.code, 0) << who << ": " << r.err;
  }
  // Someone else's: untouched, byte for byte.
  EXPECT_EQ(text(pair_ + ":agreement"), agreement);
  EXPECT_EQ(text("consent:m1"), m1_consent);
  EXPECT_EQ(text("consent:g1"), g1_consent);
  for (const char* who : {"m1", "g1"})
    EXPECT_EQ(Json(std::string("doc show --as d1 consent:") + who, "2026-09-03")["status"], "signed") << who;
  EXPECT_EQ(Json("person show m1 --as c1", "2026-09-03")["name"], "Анна Смирнова");
  // Theirs: destroyed.
  for (const std::string& doc : {pair2 + ":agreement", std::string("consent:y1"), std::string("consent:x1")}) {
    auto gone = Db("doc render " + doc + " --as c1", "2026-09-03");
    EXPECT_EQ(gone.code, 3) << doc;
    EXPECT_NE(gone.err.find("was destroyed on 2026-09-03 "), std::string::npos) << doc << ": " << gone.err;
  }
  // A name no one else has, in an instance that does not name its person: replaced.
  const std::string history = Json("history --as d1 " + pair2, "2026-09-03").dump();
  EXPECT_EQ(history.find("Пётр Уходящий"), std::string::npos) << history;
  EXPECT_NE(history.find("Наставника заменит erased-"), std::string::npos) << history;
}

// Issue 23, finding 1: erasure decides from what was recorded when each text
// was issued, never from what a text happens to contain. A mentee named
// «Центр» (a word of the institution's name) born on the day the documents
// were issued destroys nothing of anyone else's; a guardian who only signed
// a ward's consent has their name replaced in it, and the consent stays
// signed; the pair they were a party to loses its agreement; a note in their
// pair naming them in other forms (upper case, surname first) is redacted.
TEST_P(Documents, EraseTouchesOnlyTheTextsRecordedAsTheirs) {
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-01").code, 0);
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-01").code, 0);
  auto everything = [&](const std::string& now) {
    std::map<std::string, std::string> out;
    for (const auto& d : Json("doc list --as d1", now)) {
      const std::string id = d["id"];
      if (id.rfind("act:", 0) == 0 || !d["erased"].is_null()) continue;
      auto r = Db("doc render " + id + " --as c1", now);
      EXPECT_EQ(r.code, 0) << id << ": " << r.err;
      out[id] = r.out;
    }
    return out;
  };
  const auto before = everything("2026-09-02");
  ASSERT_GE(before.size(), 4u);
  const std::string reminders = Json("reminders --as d1", "2026-09-02").dump();
  ASSERT_EQ(Db("person add x9" MF_PAPERS " --as c1 --name 'Центр' --role mentee --birth 2026-09-01", "2026-09-02").code, 0);
  auto erased = Db("person erase x9 --as c1", "2026-09-02");
  ASSERT_EQ(erased.code, 0) << erased.err;
  EXPECT_EQ(everything("2026-09-02"), before);  // every text, byte for byte
  EXPECT_EQ(Json("reminders --as d1", "2026-09-02").dump(), reminders);
  for (const auto& d : Json("doc list --as d1", "2026-09-02"))
    if (d["id"] != "act:x9") EXPECT_TRUE(d["erased"].is_null() && d["redacted"].is_null()) << d["id"];

  // The guardian: their pair ends, with a note naming them as others write it.
  ASSERT_EQ(Db("send " + pair_ + " terminate_by_curator --as c1"
                   " --set 'termination_reason=Просьба ИВАНОВА ОЛЬГА; согласовано с Иванова О.'",
               "2026-09-03").code, 0);
  ASSERT_NE(before.at("consent:s1:1").find("Ольга Иванова"), std::string::npos);
  auto g1 = Db("person erase g1 --as c1", "2026-09-04");
  ASSERT_EQ(g1.code, 0) << g1.err;
  const auto after = everything("2026-09-04");
  ASSERT_EQ(after.count("consent:s1:1"), 1u);  // kept, with the guardian's name replaced
  EXPECT_EQ(after.at("consent:s1:1").find("Ольга Иванова"), std::string::npos);
  EXPECT_NE(after.at("consent:s1:1").find("erased-"), std::string::npos);
  EXPECT_EQ(Json("doc show --as d1 consent:s1", "2026-09-04")["status"], "signed");
  EXPECT_FALSE(Json("doc show --as d1 consent:s1", "2026-09-04")["redacted"].is_null());
  EXPECT_EQ(after.at("consent:m1:1"), before.at("consent:m1:1"));  // not theirs at all
  EXPECT_EQ(after.count(pair_ + ":agreement:1"), 0u);              // they were a party: destroyed
  auto act = Db("doc render act:g1 --as c1", "2026-09-04");
  EXPECT_NE(act.out.find("consent:s1:1"), std::string::npos) << act.out;
  const std::string history = Json("history --as d1 " + pair_, "2026-09-04").dump();
  EXPECT_EQ(history.find("ИВАНОВА ОЛЬГА"), std::string::npos) << history;
  EXPECT_EQ(history.find("Иванова О."), std::string::npos) << history;
  EXPECT_NE(history.find("Просьба erased-"), std::string::npos) << history;
}

// Issue 23, finding 9: a rendered file holds personal data. It is created
// 0600 (an existing 0644 one too), a target that is not a regular file (a
// link, a FIFO, a device) is refused and left as it was, and a write that
// fails (a full disk, /dev/full's answer) leaves no file behind.
TEST_P(Documents, RenderedFilesAreTheOwnersOnlyAndNeverReplaceWhatIsNotAFile) {
  const std::string doc = pair_ + ":agreement";
  auto mode = [](const std::string& p) { return fs::status(p).permissions() & fs::perms::mask; };
  for (const char* format : {"html", "odt"}) {
    const std::string fresh = dir_ + "/fresh." + format, old = dir_ + "/old." + format;
    std::ofstream(old) << "old";
    fs::permissions(old, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    for (const auto& out : {fresh, old}) {
      auto r = Db("doc render " + doc + " --as c1 --format " + format + " --out " + out, "2026-09-02");
      ASSERT_EQ(r.code, 0) << r.err;
      EXPECT_EQ(mode(out), fs::perms::owner_read | fs::perms::owner_write) << out;
      EXPECT_GT(fs::file_size(out), 100u) << out;
    }
  }
  const std::string target = dir_ + "/target.html", link = dir_ + "/link.html", fifo = dir_ + "/fifo.html";
  std::ofstream(target) << "someone else's";
  fs::create_symlink(target, link);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto reads = Json("person export s1 --as c1", "2026-09-02")["person_history"].size();
  for (const auto& out : {link, fifo, std::string("/dev/null"), dir_}) {
    auto r = Db("doc render " + doc + " --as c1 --out " + out, "2026-09-02");
    EXPECT_EQ(r.code, 1) << out;
    EXPECT_NE(r.err.find("is not a regular file"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(ReadText(target), "someone else's");
  // A refused target reads nothing: only the exports themselves were recorded.
  EXPECT_EQ(Json("person export s1 --as c1", "2026-09-02")["person_history"].size(), reads + 1);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 7u) << "no temporary file left beside the targets";  // 4 rendered, target, link, fifo
  // A write that fails leaves nothing: a full disk (a 16 KiB tmpfs, filled;
  // root only, as CI runs) or else a directory nobody may write into.
  const std::string full = dir_ + "/full";
  fs::create_directories(full);
  struct Unmount {
    std::string dir;
    bool mounted = false;
    ~Unmount() {
      if (mounted) std::system(("umount '" + dir + "'").c_str());
    }
  } unmount{full};
  if (::geteuid() == 0) {
    ASSERT_EQ(std::system(("mount -t tmpfs -o size=16k,mode=0700 tmpfs '" + full + "'").c_str()), 0);
    unmount.mounted = true;
    std::system(("head -c 100000 /dev/zero > '" + full + "/filler' 2>/dev/null").c_str());
    auto r = Db("doc render " + doc + " --as c1 --out " + full + "/x.html", "2026-09-02");
    EXPECT_EQ(r.code, 5) << r.err;
    EXPECT_NE(r.err.find("disk"), std::string::npos) << r.err;
  } else {
    fs::permissions(full, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_EQ(Db("doc render " + doc + " --as c1 --out " + full + "/x.html", "2026-09-02").code, 5);
    fs::permissions(full, fs::perms::owner_all);
  }
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(full))
    if (e.path().filename() != "filler") left.push_back(e.path().filename().string());
  EXPECT_TRUE(left.empty()) << left[0];
}

// Issue 23, finding 12: while a pair is suspended (a participant revoked
// their consent) its agreement takes no signature; nothing changes.
TEST_P(Documents, ASuspendedPairsAgreementIsNotSigned) {
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-01").code, 0);
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-01").code, 0);
  ASSERT_EQ(Db("consent revoke s1 --as g1", "2026-09-02").code, 0);
  ASSERT_EQ(Json("show " + pair_ + " --as c1", "2026-09-02")["state"], "suspended");
  const auto before = Json("doc show " + pair_ + ":agreement --as c1", "2026-09-02");
  for (const char* who : {"m1", "g1"}) {
    auto r = Db("doc sign " + pair_ + ":agreement --as " + who, "2026-09-02");
    EXPECT_EQ(r.code, 3) << who;
    EXPECT_NE(r.err.find("s1 has revoked their consent"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Json("doc show " + pair_ + ":agreement --as c1", "2026-09-02"), before);
  // Renewed, the pair goes back to its documents, and they are signed again.
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-03").code, 0);
  EXPECT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-03").code, 0);
}

// The roadmap carries the stages' dates; a plan names the curator of the
// programme it belongs to (through its pair), with its items' dates.
TEST_P(Documents, TheRoadmapHasItsDatesAndThePlanItsCurator) {
  auto prog = Db("start programme --as d1 --set year=2026/2027 --set stage1_by=2026-09-30 --set stage6_by=2027-05-31",
                 "2026-09-01");
  ASSERT_EQ(prog.code, 0) << prog.err;
  const std::string p = prog.out.substr(0, prog.out.find('\n'));
  auto roadmap = Db("doc render " + p + ":roadmap --as d1", "2026-09-01");
  ASSERT_EQ(roadmap.code, 0) << roadmap.err;
  EXPECT_NE(roadmap.out.find("до 30.09.2026"), std::string::npos);
  EXPECT_NE(roadmap.out.find("до 31.05.2027"), std::string::npos);
  ASSERT_EQ(Db("send " + p + " plan_stages --set stage2_by=2026-10-15 --as d1", "2026-09-02").code, 0);
  auto again = Db("doc render " + p + ":roadmap --as d1", "2026-09-02");
  EXPECT_NE(again.out.find("до 15.10.2026"), std::string::npos);  // issued again with the new date
  EXPECT_EQ(Json("doc show --as d1 " + p + ":roadmap:1", "2026-09-02")["status"], "superseded");
  ASSERT_EQ(Db("send " + p + " appoint_curator --set curator=c2 --as d1", "2026-09-02").code, 0);
  // Through the stages to pairs at work: with no pair yet, "the pairs'
  // work is finished" is refused (it needs at least one pair).
  ASSERT_EQ(Db("send " + p + " approve_regulation --as d1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + p + ":roadmap --as d1", "2026-09-02").code, 0);
  for (const char* e : {"start_mentee_bank", "mentee_bank_ready", "mentor_bank_ready", "training_done"})
    ASSERT_EQ(Db("send " + p + " " + e + " --as c2", "2026-09-02").code, 0) << e;
  auto none = Db("send " + p + " pairs_finished --as c2", "2026-09-02");
  EXPECT_EQ(none.code, 3);
  EXPECT_NE(none.err.find("(0 of 0 are)"), std::string::npos) << none.err;
  auto pair = Db("start mentoring_pair --parent " + p + " --as c2 --set mentor=m1 --set mentee=s1 --set form=speed"
                 " --set kind=volunteer_pupil",
                 "2026-09-02");
  ASSERT_EQ(pair.code, 0) << pair.err;
  auto plan = Db("start individual_plan --parent " + pair.out.substr(0, pair.out.find('\n')) +
                     " --as m1 --set mentor=m1 --set mentee=s1",
                 "2026-09-02");
  ASSERT_EQ(plan.code, 0) << plan.err;
  const std::string id = plan.out.substr(0, plan.out.find('\n'));
  ASSERT_EQ(Db("send " + id + " add_item --set 'title=Знакомство' --set due=2026-10-01 --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("send " + id + " submit --as m1", "2026-09-02").code, 0);
  auto text = Db("doc render " + id + ":plan --as c2", "2026-09-02");
  ASSERT_EQ(text.code, 0) << text.err;
  for (const char* s : {"Анна Смирнова", "Знакомство", "01.10.2026", "запланировано", "Иван Сидоров"})
    EXPECT_NE(text.out.find(s), std::string::npos) << s;
}

// The gates: the pair goes to the director only with the agreement signed
// in every place and each participant's consent document valid; an
// agreement whose stored text was altered after signing does not count.
TEST_P(Documents, ActivationNeedsTheSignedAgreementAndEachConsent) {
  const std::string before = DumpTables(db_->url());
  auto no_agreement = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(no_agreement.code, 3);
  EXPECT_NE(no_agreement.err.find("'agreement' signed"), std::string::npos) << no_agreement.err;
  EXPECT_EQ(Db("doc sign " + pair_ + ":agreement --as s1", "2026-09-02").code, 3);  // the minor's own signature
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as g1", "2026-09-02").code, 0);
  auto no_consent = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(no_consent.code, 3);
  EXPECT_NE(no_consent.err.find("consent of mentor (m1) and mentee (s1)"), std::string::npos) << no_consent.err;
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-02").code, 0);
  auto one = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(one.code, 3);
  EXPECT_NE(one.err.find("consent of mentee (s1)"), std::string::npos) << one.err;
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-02").code, 0);
  ExecSql(db_->url(), "UPDATE documents SET content = REPLACE(content, 'Анна', 'Инна') WHERE name = 'agreement'");
  const std::string altered = DumpTables(db_->url());
  auto refused = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("'agreement' signed"), std::string::npos) << refused.err;
  EXPECT_EQ(DumpTables(db_->url()), altered);
  ExecSql(db_->url(), "UPDATE documents SET content = REPLACE(content, 'Инна', 'Анна') WHERE name = 'agreement'");
  // Issue 26, finding 9: and only with the pair's individual plan agreed.
  const std::string planless = DumpTables(db_->url());
  auto no_plan = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(no_plan.code, 3);
  EXPECT_NE(no_plan.err.find("at least 1 individual_plan of this instance in [in_progress, done]"), std::string::npos)
      << no_plan.err;
  EXPECT_EQ(DumpTables(db_->url()), planless);
  AgreedPlan(pair_, "m1", "s1", "2026-09-02");
  auto ok = Db("send " + pair_ + " ready --as c1", "2026-09-02");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// A pair that ends before its documents are signed: they expire.
TEST_P(Documents, AFinishedInstancesUnsignedDocumentsExpire) {
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("send " + pair_ + " terminate_by_curator --set termination_reason=Отказ --as c1", "2026-09-03").code, 0);
  EXPECT_EQ(Json("doc show --as d1 " + pair_ + ":agreement", "2026-09-03")["status"], "expired");
  const std::string before = DumpTables(db_->url());
  EXPECT_EQ(Db("doc sign " + pair_ + ":agreement --as g1", "2026-09-03").code, 3);
  EXPECT_EQ(DumpTables(db_->url()), before);
}

// Documents not collected in 14 days send the pair back to `proposed`; a new
// submit issues the documents again and the earlier issues are superseded.
TEST_P(Documents, AReissueSupersedesTheEarlierIssueWhichCannotBeSigned) {
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("tick", "2026-09-20").code, 0);
  ASSERT_EQ(Json("show --as d1 " + pair_, "2026-09-20")["state"], "proposed");
  ASSERT_EQ(Db("send " + pair_ + " submit --as c1", "2026-09-20").code, 0);
  EXPECT_EQ(Json("doc show --as d1 " + pair_ + ":agreement:1", "2026-09-20")["status"], "superseded");
  EXPECT_EQ(Json("doc show --as d1 " + pair_ + ":agreement", "2026-09-20")["id"], pair_ + ":agreement:2");
  const std::string before = DumpTables(db_->url());
  auto old = Db("doc sign " + pair_ + ":agreement:1 --as g1", "2026-09-20");
  EXPECT_EQ(old.code, 3) << old.err;
  EXPECT_NE(old.err.find("superseded by issue 2"), std::string::npos) << old.err;
  EXPECT_EQ(Db("doc sign " + pair_ + ":agreement:3 --as g1", "2026-09-20").code, 2);
  EXPECT_EQ(DumpTables(db_->url()), before);
  EXPECT_EQ(Db("doc sign " + pair_ + ":agreement:2 --as m1", "2026-09-20").code, 0);
}

bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Without LibreOffice (a PATH where there is none) a PDF is refused with the
// package to install, and no file is left.
TEST_P(Documents, PdfWithoutLibreOfficeNamesThePackage) {
  const std::string cmd = std::string("env PATH=/nonexistent ") + MENTORFLOW_CLI + " --db '" + db_->url() +
                          "' --now 2026-09-02 doc render " + pair_ + ":agreement --as c1 --format pdf --out " + dir_ +
                          "/y.pdf >" + dir_ + "/err.txt 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 1);
  EXPECT_NE(ReadText(dir_ + "/err.txt").find("apt-get install libreoffice-writer-nogui"), std::string::npos)
      << ReadText(dir_ + "/err.txt");
  EXPECT_FALSE(fs::exists(dir_ + "/y.pdf"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Documents, ::testing::Values("sqlite", "postgresql"));

// The converter does not depend on the backend: it runs once, on SQLite.
class DocumentsPdf : public Documents {};

TEST_P(DocumentsPdf, ComesFromLibreOfficeAndCarriesTheNames) {
  if (!OnPath("soffice") || !OnPath("pdftotext")) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true")
      FAIL() << "CI=true: LibreOffice (soffice) and poppler-utils (pdftotext) must be installed by make test";
    GTEST_SKIP() << "soffice or pdftotext not installed";
  }
  // One document of each kind: the agreement, a minor's consent, the
  // director's order, the roadmap, the destruction act.
  ASSERT_EQ(Db("consent sign m1 --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":duties_consent --as m1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc sign " + pair_ + ":agreement --as g1", "2026-09-02").code, 0);
  AgreedPlan(pair_, "m1", "s1", "2026-09-02");
  ASSERT_EQ(Db("send " + pair_ + " ready --as c1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("doc issue order_assign_pairs --as c1", "2026-09-02").code, 0);
  auto prog = Db("start programme --as d1 --set year=2026/2027 --set stage1_by=2026-09-30", "2026-09-02");
  ASSERT_EQ(prog.code, 0) << prog.err;
  ASSERT_EQ(Db("person add x1" MF_PAPERS " --name 'Пётр Уходящий' --role mentor --birth 1991-01-01 --as c1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("person erase x1 --as c1", "2026-09-03").code, 0);
  const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
      {pair_ + ":agreement", {"Анна Смирнова", "Ольга Иванова"}},
      {"consent:s1", {"Ольга Иванова", "законный представитель"}},
      {"1/2026", {"Приказ", "Смирнова", "Мария Петрова"}},  // table cells may wrap
      {prog.out.substr(0, prog.out.find('\n')) + ":roadmap", {"Дорожная карта", "30.09.2026"}},
      {"act:x1", {"Акт об уничтожении", "x1"}}};
  for (const auto& [doc, names] : kinds) {
    const std::string pdf = dir_ + "/doc.pdf", txt = dir_ + "/doc.txt";
    auto r = Db("doc render " + doc + " --as c1 --format pdf --out " + pdf, "2026-09-03");
    ASSERT_EQ(r.code, 0) << doc << ": " << r.err;
    ASSERT_EQ(std::system(("pdftotext -enc UTF-8 '" + pdf + "' '" + txt + "'").c_str()), 0) << doc;
    const std::string text = ReadText(txt);
    for (const auto& n : names) EXPECT_NE(text.find(n), std::string::npos) << doc << ": " << n << "\n" << text.substr(0, 300);
    fs::remove(pdf);
  }
}

// The consent of a minor comes in two versions: under 14 the representative
// alone consents (the child's birth certificate named); from 14 the
// representative consents and the child signs that they have read it (their
// passport named). Each names the representative's authority, lists annex
// 2's data and actions, says the consent is indefinite and revocable and
// where the right to information is (152-FZ art. 14 part 7), in the ODT and
// in the PDF alike.
std::string Flat(std::string text) {  // tags out, whitespace collapsed
  std::string out;
  bool tag = false, space = false;
  for (char c : text) {
    if (c == '<') tag = true;
    if (tag) {
      if (c == '>') tag = false;
      space = true;
      continue;
    }
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

TEST_P(DocumentsPdf, AMinorsConsentUnderAndOver14HasEveryRequiredElement) {
  if (!OnPath("soffice") || !OnPath("pdftotext")) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true")
      FAIL() << "CI=true: LibreOffice (soffice) and poppler-utils (pdftotext) must be installed by make test";
    GTEST_SKIP() << "soffice or pdftotext not installed";
  }
  ASSERT_EQ(Db("person add s2" MF_PAPERS " --name 'Катя Иванова' --role mentee --birth 2011-05-05 --guardian g1 --as c1", "2026-09-01")
                .code,
            0);
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-02").code, 0);  // 13 years old
  ASSERT_EQ(Db("consent sign s2 --as g1", "2026-09-02").code, 0);  // 15 years old
  const std::vector<std::string> common = {
      "Ольга Иванова", "законный представитель", "полномочия законного представителя",
      // What 152-FZ art. 9 part 4 wants stated, as recorded (MF_PAPERS): the
      // operator's address, the addresses, the documents, the authority.
      "адрес Учреждения: г. Саратов, ул. Школьная, д. 5", "адрес: г. Саратов, ул. Садовая, д. 1",
      "паспорт, серия и номер 6310 000001, дата выдачи 12.03.2020, выдавший орган: ГУ МВД России по Саратовской области",
      "подтверждает документ: свидетельство о рождении II-РУ 000001",
      "фамилия, имя, отчество, дата рождения", "состав семьи", "домашний телефон", "сведения об образовании",
      "место работы или учёбы членов семьи", "систематизация", "уничтожение", "бессрочно", "Отозвать его можно в любой момент",
      "части 7 статьи 14", "152-ФЗ", "отдельное согласие"};
  const std::vector<std::string> under14 = {"не исполнилось 14 лет",
                                            "Документ, удостоверяющий личность участника: паспорт, серия и номер"};
  const std::vector<std::string> over14 = {"исполнилось 14 лет, но не исполнилось 18",
                                           "соглашается с тем, что участник даёт это согласие",
                                           "Подпись участника: ____________ / Катя Иванова /"};
  for (const std::string who : {"s1", "s2"}) {
    const std::string odt = dir_ + "/c.odt", pdf = dir_ + "/c.pdf", txt = dir_ + "/c.txt";
    ASSERT_EQ(Db("doc render consent:" + who + " --as c1 --format odt --out " + odt, "2026-09-03").code, 0) << who;
    const std::string in_odt = Flat(OdtContent(odt));
    auto r = Db("doc render consent:" + who + " --as c1 --format pdf --out " + pdf, "2026-09-03");
    ASSERT_EQ(r.code, 0) << who << ": " << r.err;
    ASSERT_EQ(std::system(("pdftotext -enc UTF-8 '" + pdf + "' '" + txt + "'").c_str()), 0) << who;
    const std::string in_pdf = Flat(ReadText(txt));
    std::vector<std::string> wanted = common, absent = who == "s1" ? over14 : under14;
    for (const auto& e : who == "s1" ? under14 : over14) wanted.push_back(e);
    for (const auto* text : {&in_odt, &in_pdf}) {
      const char* where = text == &in_odt ? "ODT" : "PDF";
      for (const auto& e : wanted) EXPECT_NE(text->find(e), std::string::npos) << who << " " << where << ": " << e;
      for (const auto& e : absent) EXPECT_EQ(text->find(e), std::string::npos) << who << " " << where << ": " << e;
    }
    fs::remove(pdf);
  }
}

// The annual report: submitted by the curator, issued with the year's
// figures (stats annual) in its tables, signed by the director and no one
// else, sent only once signed; printed as HTML, as an ODT package and as a PDF.
TEST_P(DocumentsPdf, TheAnnualReportCarriesTheFiguresTheDirectorSignsItAndItPrints) {
  if (!OnPath("soffice") || !OnPath("pdftotext")) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true")
      FAIL() << "CI=true: LibreOffice (soffice) and poppler-utils (pdftotext) must be installed by make test";
    GTEST_SKIP() << "soffice or pdftotext not installed";
  }
  AgreedPlan(pair_, "m1", "s1", "2026-09-02");
  for (const std::string& step : {std::string("consent sign m1 --as m1"), std::string("consent sign s1 --as g1"), "doc sign " + pair_ + ":agreement --as m1",
                                  "doc sign " + pair_ + ":agreement --as g1", "doc sign " + pair_ + ":duties_consent --as m1",
                                  "send " + pair_ + " ready --as c1", std::string("doc issue order_assign_pairs --as c1"),
                                  std::string("doc sign 1/2026 --as d1")}) {
    auto r = Db(step, "2026-09-02");
    ASSERT_EQ(r.code, 0) << step << ": " << r.err;
  }
  auto rep = Db("start annual_report --as c1 --set year=2026", "2026-12-01");
  ASSERT_EQ(rep.code, 0) << rep.err;
  const std::string id = rep.out.substr(0, rep.out.find('\n'));
  EXPECT_EQ(Db("doc show --as d1 " + id + ":report", "2026-12-01").code, 2) << "nothing issued before the curator submits";
  ASSERT_EQ(Db("send " + id + " submit --as c1", "2026-12-10").code, 0);
  EXPECT_EQ(Json("show --as d1 " + id, "2026-12-10")["state"], "signing");
  // Refusals: sent unsigned, signed by the curator, submitted by the director.
  auto unsigned_send = Db("send " + id + " send --as c1 --set sent_on=2026-12-10", "2026-12-10");
  EXPECT_EQ(unsigned_send.code, 3) << unsigned_send.err;
  EXPECT_NE(unsigned_send.err.find("'report' signed"), std::string::npos) << unsigned_send.err;
  EXPECT_EQ(Db("doc sign " + id + ":report --as c1", "2026-12-10").code, 3);
  const std::string html = dir_ + "/r.html", odt = dir_ + "/r.odt", pdf = dir_ + "/r.pdf", txt = dir_ + "/r.txt";
  ASSERT_EQ(Db("doc render " + id + ":report --as c1 --format html --out " + html, "2026-12-10").code, 0);
  ASSERT_EQ(Db("doc render " + id + ":report --as c1 --format odt --out " + odt, "2026-12-10").code, 0);
  auto pr = Db("doc render " + id + ":report --as c1 --format pdf --out " + pdf, "2026-12-10");
  ASSERT_EQ(pr.code, 0) << pr.err;
  ASSERT_EQ(std::system(("pdftotext -enc UTF-8 '" + pdf + "' '" + txt + "'").c_str()), 0);
  const std::string content = OdtContent(odt);
  EXPECT_TRUE(WellFormed(content));
  // The same figures in each form: one pair formed and at work, a minor mentee, no completions.
  for (const auto& [where, text] : {std::pair<std::string, std::string>{"HTML", Flat(ReadText(html))},
                                    {"ODT", Flat(content)}, {"PDF", Flat(ReadText(txt))}}) {
    for (const char* want : {"Сведения об участниках программы наставничества за 2026 год",
                             "Наставнических пар сформировано за год 1", "из них несовершеннолетних на 31 декабря 1",
                             "Виртуальное (дистанционное) наставничество 1", "Реверсивное наставничество 0", "волонтёр — воспитанник 1",
                             "Пар прекращено 0", "рассчитаны по истории программы на 10.12.2026"})
      EXPECT_NE(text.find(want), std::string::npos) << where << ": " << want << "\n" << text.substr(0, 1500);
    for (const char* personal : {"Смирнова", "Петя", "Иванова"})
      EXPECT_EQ(text.find(personal), std::string::npos) << where << " names " << personal;
  }
  ASSERT_EQ(Db("doc sign " + id + ":report --as d1", "2026-12-11").code, 0);
  ASSERT_EQ(Db("send " + id + " send --as c1 --set sent_on=2026-12-11", "2026-12-11").code, 0);
  EXPECT_EQ(Json("show --as d1 " + id, "2026-12-11")["state"], "sent");
}

// Issue 26, finding 5: every document of a pair, printed to PDF for a girl
// of 12 with her mother, a boy of 15 with his father and an adult: read back
// with pdftotext, each name stands whole (no word broken across a table
// cell's lines), each minor's representative is named as the register has
// them, no phrase guesses a sex, and the signatures are never alone on a
// page without the text they sign.
TEST_P(DocumentsPdf, EveryDocumentPrintsForAGirlABoyAndAnAdultAsADirectorCanSignIt) {
  if (!OnPath("soffice") || !OnPath("pdftotext")) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true")
      FAIL() << "CI=true: LibreOffice (soffice) and poppler-utils (pdftotext) must be installed by make test";
    GTEST_SKIP() << "soffice or pdftotext not installed";
  }
  const std::string day = "2026-09-02";
  struct Case {
    std::string mentor, mentor_name, mentee, mentee_name, birth, guardian, guardian_name, form;
  };
  const std::vector<Case> cases = {
      {"pm1", "Смирнова Анна Викторовна", "pg", "Орлова Маша Сергеевна", "2014-03-15", "pgm", "Орлова Ольга Андреевна",
       "short_term"},
      {"pm2", "Константинопольский Вячеслав Игоревич", "pb", "Волков Иван Сергеевич", "2011-02-10", "pbf",
       "Волков Сергей Николаевич", "virtual"},
      {"pm3", "Орлов Илья Петрович", "pa", "Белова Екатерина Дмитриевна", "2004-06-01", "", "", "situational"}};
  std::vector<std::string> pairs, plans;
  for (const auto& k : cases) {
    ASSERT_EQ(Db("person add " + k.mentor + MF_PAPERS " --name '" + k.mentor_name + "' --role mentor --birth 1990-01-01 --as c1", day).code, 0);
    ASSERT_EQ(Db("consent sign " + k.mentor + " --as " + k.mentor, day).code, 0);
    if (!k.guardian.empty()) {
      ASSERT_EQ(Db("person add " + k.guardian + MF_PAPERS " --name '" + k.guardian_name + "' --role guardian --birth 1980-01-01 --as c1", day).code, 0);
      ASSERT_EQ(Db("person add " + k.mentee + MF_PAPERS " --name '" + k.mentee_name + "' --role mentee --birth " + k.birth +
                       " --guardian " + k.guardian + " --as c1", day).code, 0);
      ASSERT_EQ(Db("consent sign " + k.mentee + " --as " + k.guardian, day).code, 0);
      if (k.mentee == "pb") ASSERT_EQ(Db("consent sign pb --as pb", day).code, 0);  // 15: he signs too
    } else {
      ASSERT_EQ(Db("person add " + k.mentee + MF_PAPERS " --name '" + k.mentee_name + "' --role mentee --birth " + k.birth + " --as c1", day).code, 0);
      ASSERT_EQ(Db("consent sign " + k.mentee + " --as " + k.mentee, day).code, 0);
    }
    // No `guardian` field set: the register names the representative.
    auto r = Db("start mentoring_pair --as c1 --set mentor=" + k.mentor + " --set mentee=" + k.mentee + " --set form=" +
                    k.form + " --set kind=volunteer_pupil", day);
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string id = r.out.substr(0, r.out.find('\n'));
    pairs.push_back(id);
    ASSERT_EQ(Db("send " + id + " submit --as c1", day).code, 0);
    for (const std::string& who : {k.mentor, k.guardian.empty() ? k.mentee : k.guardian})
      ASSERT_EQ(Db("doc sign " + id + ":agreement --as " + who, day).code, 0) << who;
    if (k.mentee == "pb") ASSERT_EQ(Db("doc sign " + id + ":agreement --as pb", day).code, 0);  // 15: he signs too
    ASSERT_EQ(Db("doc sign " + id + ":duties_consent --as " + k.mentor, day).code, 0);
    plans.push_back(AgreedPlan(id, k.mentor, k.mentee, day));
    auto ready = Db("send " + id + " ready --as c1", day);
    ASSERT_EQ(ready.code, 0) << ready.err;
  }
  auto order = Db("doc issue order_assign_pairs --as c1", day);
  ASSERT_EQ(order.code, 0) << order.err;
  const std::string number = order.out.substr(0, order.out.find(' '));
  ASSERT_EQ(Db("doc sign " + number + " --as d1", day).code, 0);
  // The girl's pair ends by mutual decision: the termination agreement too.
  ASSERT_EQ(Db("send " + pairs[0] + " propose_ending --as pm1 --set 'termination_reason=Цели достигнуты'", day).code, 0);

  // Each document as the product prints it (doc render to ODT), then every
  // ODT to PDF in one LibreOffice run: the PDF the product makes is that
  // conversion one file at a time (ComesFromLibreOffice covers that path),
  // and one run keeps this test's fourteen documents from taking minutes.
  struct Wanted {
    std::string doc;
    std::vector<std::string> names, present, absent;
  };
  std::vector<Wanted> wanted;
  auto check = [&](const std::string& doc, const std::vector<std::string>& names, const std::vector<std::string>& present,
                   const std::vector<std::string>& absent) { wanted.push_back({doc, names, present, absent}); };
  auto pages_of = [&](size_t i) {
    std::vector<std::string> pages;
    const std::string pdf = dir_ + "/doc" + std::to_string(i) + ".pdf", txt = dir_ + "/p.txt";
    for (int p = 1; p < 10; ++p) {
      if (std::system(("pdftotext -q -layout -enc UTF-8 -f " + std::to_string(p) + " -l " + std::to_string(p) + " '" +
                       pdf + "' '" + txt + "' 2>/dev/null").c_str()) != 0)
        break;
      pages.push_back(ReadText(txt));
    }
    return pages;
  };
  auto verify = [&](size_t i) {
    const std::string& doc = wanted[i].doc;
    const auto& names = wanted[i].names;
    const auto& present = wanted[i].present;
    const auto& absent = wanted[i].absent;
    const auto pages = pages_of(i);
    ASSERT_FALSE(pages.empty()) << doc;
    std::string all;
    for (const auto& p : pages) all += p + "\n";
    // A name broken inside a table cell would come back on two lines.
    for (const auto& name : names) {
      std::istringstream words(name);
      for (std::string w; words >> w;)
        EXPECT_NE(all.find(w), std::string::npos) << doc << ": the word '" << w << "' is not whole";
    }
    const std::string flat = Flat(all);
    for (const auto& text : present) EXPECT_NE(flat.find(text), std::string::npos) << doc << ": " << text;
    for (const auto& text : absent) EXPECT_EQ(flat.find(text), std::string::npos) << doc << ": " << text;
    for (const char* guess : {"(на)", "(одна)", "в лице", "согласен"})
      EXPECT_EQ(flat.find(guess), std::string::npos) << doc << ": " << guess;
    // The signature block's page carries the text's end above it.
    for (const auto& page : pages) {
      const size_t header = page.find("Фамилия, имя, отчество");
      if (header == std::string::npos) continue;
      EXPECT_FALSE(Flat(page.substr(0, page.rfind('\n', header) == std::string::npos ? 0 : page.rfind('\n', header))).empty())
          << doc << ": the signatures begin a page of their own";
    }
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    std::vector<std::string> names = {k.mentor_name, k.mentee_name};
    if (!k.guardian.empty()) names.push_back(k.guardian_name);
    std::vector<std::string> present, absent;
    if (k.mentee == "pg") present = {"Законный представитель наставляемого: " + k.guardian_name, "не исполнилось 14 лет",
                                      "подписывает законный представитель"};
    if (k.mentee == "pb") present = {"Законный представитель наставляемого: " + k.guardian_name, "исполнилось 14 лет",
                                      "подписывает сам наставляемый"};
    if (k.mentee == "pa") absent = {"Законный представитель"};
    check(pairs[i] + ":agreement", names, present, absent);
    check(pairs[i] + ":duties_consent", {k.mentor_name, k.mentee_name}, {"Наставник: " + k.mentor_name}, {});
    check(plans[i] + ":plan", {k.mentor_name, k.mentee_name}, {"Знакомство, цели"}, {});
    std::vector<std::string> subject = {k.mentee_name};
    if (!k.guardian.empty()) subject.push_back(k.guardian_name);
    check("consent:" + k.mentee, subject, {}, k.guardian.empty() ? std::vector<std::string>{"Законный представитель"}
                                                                             : std::vector<std::string>{});
  }
  check(pairs[0] + ":termination", {cases[0].mentor_name, cases[0].mentee_name, cases[0].guardian_name},
        {"Законный представитель наставляемого", "Цели достигнуты"}, {});
  std::vector<std::string> everyone;
  for (const auto& k : cases)
    for (const auto& n : {k.mentor_name, k.mentee_name, k.guardian_name})
      if (!n.empty()) everyone.push_back(n);
  check(number, everyone, {"(целеполагающее)", "(дистанционное)", "законный представитель:"}, {});
  std::string files;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const std::string odt = dir_ + "/doc" + std::to_string(i) + ".odt";
    auto r = Db("doc render " + wanted[i].doc + " --as c1 --format odt --out " + odt, day);
    ASSERT_EQ(r.code, 0) << wanted[i].doc << ": " << r.err;
    files += " '" + odt + "'";
  }
  ASSERT_EQ(std::system(("cd '" + dir_ + "' && timeout 300 soffice --headless --norestore -env:UserInstallation=file://" +
                         dir_ + "/lo --convert-to pdf --outdir '" + dir_ + "'" + files + " >/dev/null 2>&1")
                            .c_str()),
            0);
  for (size_t i = 0; i < wanted.size(); ++i) verify(i);
  EXPECT_EQ(pages_of(wanted.size() - 1).size(), 1u) << "the order and its signatures on one page";
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentsPdf, ::testing::Values("sqlite"));

}  // namespace
}  // namespace mentorflow::testing
