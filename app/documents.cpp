#include "app/documents.h"

#include "engine/rules.h"

#include <libxml/parser.h>
#include <nlohmann/json.hpp>
#include <libxml/tree.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/calendar.h"
#include "engine/render.h"

extern char** environ;

namespace mentorflow {
namespace {

namespace fs = std::filesystem;

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

using Doc = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>;

// The fragment inside one root element, parsed as XML (no network, no
// entities beyond XML's own). On failure, the parser's message and line.
Status Parse(const std::string& fragment, Doc* out) {
  const std::string text = "<div>" + fragment + "</div>";
  xmlResetLastError();
  Doc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "document.xhtml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
          &xmlFreeDoc);
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    std::string why = e && e->message ? e->message : "not well-formed";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status::BadInput("the document is not well-formed XHTML (line " + std::to_string(e ? e->line : 0) +
                            "): " + why);
  }
  *out = std::move(doc);
  return Status::Ok();
}

std::string Name(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }

bool Is(const xmlNode* n, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (Name(n) == name) return true;
  return false;
}

constexpr std::initializer_list<const char*> kBlocks = {"h1", "h2", "h3", "p", "ul", "ol", "table"};
constexpr std::initializer_list<const char*> kInline = {"strong", "b", "em", "i", "br"};

// Every element is one this module converts, in a place it converts it.
Status CheckElements(const xmlNode* parent, bool block_level) {
  for (const xmlNode* n = parent->children; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    const std::string name = Name(n);
    bool ok = false;
    if (block_level) ok = Is(n, kBlocks);
    else if (Is(parent, {"ul", "ol"})) ok = name == "li";
    else if (Is(parent, {"table"})) ok = name == "tr";
    else if (Is(parent, {"tr"})) ok = name == "td" || name == "th";
    else ok = Is(n, kInline);
    if (!ok)
      return Status::BadInput("the document uses <" + name + "> inside <" + Name(parent) +
                              ">; documents may use h1-h3, p, ul, ol, li, table, tr, th, td, strong, b, em, i, br");
    if (Status s = CheckElements(n, false); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ParseChecked(const std::string& fragment, Doc* doc) {
  if (Status s = Parse(fragment, doc); !s.ok()) return s;
  return CheckElements(xmlDocGetRootElement(doc->get()), true);
}

// Text as HTML and ODF read it: runs of white space are one space.
std::string Collapse(std::string_view s, bool* last_space) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!*last_space) out += ' ';
      *last_space = true;
    } else {
      out += c;
      *last_space = false;
    }
  }
  return out;
}

// ---- ODF ----------------------------------------------------------------

struct OdfWriter {
  std::string out, styles;  // styles: automatic styles of column widths
  int tables = 0;
  bool keep = false;  // the signatures: one unbreakable block, kept with the text before it

  void Inline(const xmlNode* parent, bool* last_space) {
    for (const xmlNode* n = parent->children; n; n = n->next) {
      if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        out += XmlEscape(Collapse(reinterpret_cast<const char*>(n->content), last_space));
      } else if (n->type == XML_ELEMENT_NODE) {
        if (Is(n, {"br"})) {
          out += "<text:line-break/>";
          *last_space = true;
        } else {
          out += std::string("<text:span text:style-name=\"") + (Is(n, {"strong", "b"}) ? "Strong" : "Emphasis") +
                 "\">";
          Inline(n, last_space);
          out += "</text:span>";
        }
      }
    }
  }
  void Paragraph(const xmlNode* n, const char* style) {
    out += std::string("<text:p text:style-name=\"") + style + "\">";
    bool last_space = true;
    Inline(n, &last_space);
    out += "</text:p>";
  }
  void Blocks(const xmlNode* parent) {
    for (const xmlNode* n = parent->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      const std::string name = Name(n);
      if (name.size() == 2 && name[0] == 'h') {
        const char level = name[1];
        out += std::string("<text:h text:style-name=\"Heading_20_") + level + "\" text:outline-level=\"" + level +
               "\">";
        bool last_space = true;
        Inline(n, &last_space);
        out += "</text:h>";
      } else if (name == "p") {
        // The body's last paragraph stays on the page of the signatures.
        const xmlNode* next = n->next;
        while (next && next->type != XML_ELEMENT_NODE) next = next->next;
        Paragraph(n, !keep && !next ? "Text_20_body_keep" : "Text_20_body");
      } else if (name == "ul" || name == "ol") {
        out += std::string("<text:list text:style-name=\"") + (name == "ul" ? "L_bullet" : "L_number") + "\">";
        for (const xmlNode* li = n->children; li; li = li->next) {
          if (li->type != XML_ELEMENT_NODE) continue;
          out += "<text:list-item>";
          Paragraph(li, "List_20_Contents");
          out += "</text:list-item>";
        }
        out += "</text:list>";
      } else if (name == "table") {
        Table(n);
      }
    }
  }
  void Table(const xmlNode* t) {
    size_t columns = 1;
    for (const xmlNode* tr = t->children; tr; tr = tr->next) {
      if (tr->type != XML_ELEMENT_NODE) continue;
      size_t k = 0;
      for (const xmlNode* c = tr->children; c; c = c->next) k += c->type == XML_ELEMENT_NODE;
      columns = std::max(columns, k);
    }
    // Column widths from the first row's width="NN%" (the same attribute
    // sets them in the HTML copy); equal columns otherwise.
    std::vector<int> widths;
    for (const xmlNode* tr = t->children; tr && widths.empty(); tr = tr->next) {
      if (tr->type != XML_ELEMENT_NODE) continue;
      for (const xmlNode* c = tr->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        xmlChar* w = xmlGetProp(c, reinterpret_cast<const xmlChar*>("width"));
        const int percent = w ? std::atoi(reinterpret_cast<const char*>(w)) : 0;
        if (w) xmlFree(w);
        widths.push_back(percent);
      }
      if (widths.size() != columns || std::any_of(widths.begin(), widths.end(), [](int p) { return p <= 0; }))
        widths.assign(1, 0);
    }
    const std::string name = "Table" + std::to_string(++tables);
    out += "<table:table table:name=\"" + name + "\" table:style-name=\"" + (keep ? "TableKeep" : "Table") + "\">";
    if (widths.size() == columns) {
      for (size_t k = 0; k < columns; ++k) {
        const std::string col = name + ".C" + std::to_string(k);
        styles += "<style:style style:name=\"" + col + "\" style:family=\"table-column\">"
                  "<style:table-column-properties style:rel-column-width=\"" + std::to_string(widths[k] * 100) +
                  "*\"/></style:style>";
        out += "<table:table-column table:style-name=\"" + col + "\"/>";
      }
    } else {
      out += "<table:table-column table:number-columns-repeated=\"" + std::to_string(columns) + "\"/>";
    }
    for (const xmlNode* tr = t->children; tr; tr = tr->next) {
      if (tr->type != XML_ELEMENT_NODE) continue;
      out += "<table:table-row>";
      size_t k = 0;
      for (const xmlNode* c = tr->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        ++k;
        out += "<table:table-cell table:style-name=\"Cell\" office:value-type=\"string\">";
        Paragraph(c, Is(c, {"th"}) ? "Table_20_Heading" : "Table_20_Contents");
        out += "</table:table-cell>";
      }
      for (; k < columns; ++k) out += "<table:table-cell table:style-name=\"Cell\"/>";
      out += "</table:table-row>";
    }
    out += "</table:table>";
  }
};

constexpr const char* kNs =
    " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
    " xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\""
    " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
    " xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\""
    " xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\""
    " xmlns:svg=\"urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0\""
    " xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\""
    " xmlns:dc=\"http://purl.org/dc/elements/1.1/\""
    " office:version=\"1.3\"";

std::string ContentXml(const xmlNode* body, const xmlNode* signatures) {
  OdfWriter w;
  w.Blocks(body);
  w.keep = true;
  w.Blocks(signatures);
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-content") + kNs +
         "><office:automatic-styles>"
         "<style:style style:name=\"Table\" style:family=\"table\">"
         "<style:table-properties style:width=\"17cm\" table:align=\"margins\"/></style:style>"
         "<style:style style:name=\"TableKeep\" style:family=\"table\">"
         "<style:table-properties style:width=\"17cm\" table:align=\"margins\" fo:margin-top=\"0.6cm\""
         " style:may-break-between-rows=\"false\"/></style:style>"
         "<style:style style:name=\"Text_20_body_keep\" style:family=\"paragraph\""
         " style:parent-style-name=\"Text_20_body\"><style:paragraph-properties fo:keep-with-next=\"always\"/>"
         "</style:style>" + w.styles +
         "<style:style style:name=\"Cell\" style:family=\"table-cell\">"
         "<style:table-cell-properties fo:border=\"0.5pt solid #000000\" fo:padding=\"0.1cm\"/></style:style>"
         "</office:automatic-styles><office:body><office:text>" +
         w.out + "</office:text></office:body></office:document-content>\n";
}

std::string ParagraphStyle(const char* name, const char* display, const std::string& paragraph,
                           const std::string& text, const char* extra = "") {
  return std::string("<style:style style:name=\"") + name + "\" style:display-name=\"" + display +
         "\" style:family=\"paragraph\" style:parent-style-name=\"Standard\"" + extra + ">" +
         (paragraph.empty() ? "" : "<style:paragraph-properties " + paragraph + "/>") +
         (text.empty() ? "" : "<style:text-properties " + text + "/>") + "</style:style>";
}

std::string ListStyle(const char* name, bool numbered) {
  const std::string level = numbered ? "<text:list-level-style-number text:level=\"1\" style:num-suffix=\".\" "
                                       "style:num-format=\"1\">"
                                     : "<text:list-level-style-bullet text:level=\"1\" text:bullet-char=\"•\">";
  return std::string("<text:list-style style:name=\"") + name + "\">" + level +
         "<style:list-level-properties text:list-level-position-and-space-mode=\"label-alignment\">"
         "<style:list-level-label-alignment text:label-followed-by=\"listtab\" text:list-tab-stop-position=\"1cm\""
         " fo:text-indent=\"-0.5cm\" fo:margin-left=\"1cm\"/></style:list-level-properties>" +
         (numbered ? "</text:list-level-style-number>" : "</text:list-level-style-bullet>") + "</text:list-style>";
}

std::string StylesXml() {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-styles") + kNs +
         "><office:font-face-decls><style:font-face style:name=\"Liberation Serif\""
         " svg:font-family=\"&apos;Liberation Serif&apos;\" style:font-family-generic=\"roman\"/>"
         "</office:font-face-decls><office:styles>"
         "<style:default-style style:family=\"paragraph\"><style:paragraph-properties fo:margin-bottom=\"0.2cm\"/>"
         "<style:text-properties style:font-name=\"Liberation Serif\" fo:font-size=\"12pt\" fo:language=\"ru\""
         " fo:country=\"RU\"/></style:default-style>"
         "<style:style style:name=\"Standard\" style:family=\"paragraph\"/>" +
         ParagraphStyle("Text_20_body", "Text body", "fo:text-align=\"justify\" fo:margin-bottom=\"0.25cm\"", "") +
         ParagraphStyle("Heading_20_1", "Heading 1", "fo:text-align=\"center\" fo:margin-top=\"0.4cm\" fo:margin-bottom=\"0.3cm\"",
                        "fo:font-size=\"14pt\" fo:font-weight=\"bold\"", " style:default-outline-level=\"1\"") +
         ParagraphStyle("Heading_20_2", "Heading 2", "fo:margin-top=\"0.35cm\" fo:margin-bottom=\"0.2cm\"",
                        "fo:font-size=\"13pt\" fo:font-weight=\"bold\"", " style:default-outline-level=\"2\"") +
         ParagraphStyle("Heading_20_3", "Heading 3", "fo:margin-top=\"0.3cm\" fo:margin-bottom=\"0.15cm\"",
                        "fo:font-size=\"12pt\" fo:font-weight=\"bold\"", " style:default-outline-level=\"3\"") +
         ParagraphStyle("List_20_Contents", "List Contents", "fo:margin-bottom=\"0.1cm\"", "") +
         // Tables a size smaller than the text, left-aligned and never
         // hyphenated, so that long surnames fit their columns whole.
         ParagraphStyle("Table_20_Contents", "Table Contents", "fo:margin-bottom=\"0cm\" fo:text-align=\"start\"",
                        "fo:font-size=\"11pt\" fo:hyphenate=\"false\"") +
         ParagraphStyle("Table_20_Heading", "Table Heading", "fo:margin-bottom=\"0cm\" fo:text-align=\"center\"",
                        "fo:font-size=\"11pt\" fo:font-weight=\"bold\" fo:hyphenate=\"false\"") +
         "<style:style style:name=\"Strong\" style:family=\"text\"><style:text-properties fo:font-weight=\"bold\"/>"
         "</style:style><style:style style:name=\"Emphasis\" style:family=\"text\">"
         "<style:text-properties fo:font-style=\"italic\"/></style:style>" +
         ListStyle("L_bullet", false) + ListStyle("L_number", true) +
         "</office:styles><office:automatic-styles><style:page-layout style:name=\"A4\">"
         "<style:page-layout-properties fo:page-width=\"21cm\" fo:page-height=\"29.7cm\" fo:margin-top=\"2cm\""
         " fo:margin-bottom=\"2cm\" fo:margin-left=\"2.5cm\" fo:margin-right=\"1.5cm\""
         " style:print-orientation=\"portrait\"/></style:page-layout></office:automatic-styles>"
         "<office:master-styles><style:master-page style:name=\"Standard\" style:page-layout-name=\"A4\"/>"
         "</office:master-styles></office:document-styles>\n";
}

std::string MetaXml(const std::string& title) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-meta") + kNs +
         "><office:meta><meta:generator>mentorflow</meta:generator><dc:title>" + XmlEscape(title) +
         "</dc:title><dc:language>ru-RU</dc:language></office:meta></office:document-meta>\n";
}

constexpr const char* kManifest =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" "
    "manifest:version=\"1.3\">"
    "<manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.3\" "
    "manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>"
    "<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>"
    "<manifest:file-entry manifest:full-path=\"styles.xml\" manifest:media-type=\"text/xml\"/>"
    "<manifest:file-entry manifest:full-path=\"meta.xml\" manifest:media-type=\"text/xml\"/>"
    "</manifest:manifest>\n";

constexpr const char* kPageStyle =
    "@page { size: A4; margin: 20mm 15mm 20mm 25mm; }\n"
    "body { font-family: 'Times New Roman', 'Liberation Serif', serif; font-size: 12pt; line-height: 1.4;"
    " max-width: 170mm; margin: 0 auto; }\n"
    "h1 { font-size: 14pt; text-align: center; margin: 0 0 12pt; }\n"
    "h2 { font-size: 13pt; margin: 12pt 0 6pt; }\n"
    "h3 { font-size: 12pt; margin: 10pt 0 4pt; }\n"
    "p { text-align: justify; margin: 0 0 6pt; }\n"
    "table { border-collapse: collapse; width: 100%; margin: 6pt 0; }\n"
    "th, td { border: 0.5pt solid #000; padding: 2pt 4pt; vertical-align: top; text-align: left; font-size: 11pt;"
    " hyphens: manual; }\n"
    ".signatures { margin-top: 24pt; page-break-inside: avoid; }\n"
    ".signatures td, .signatures th { border: none; padding: 10pt 4pt 2pt; }\n";

}  // namespace

Status Printable(const std::string& templates_dir, const std::string& institution, const std::string& zone,
                 const DocumentRecord& doc, PrintableDocument* out) {
  const std::string id = doc.Id();
  // "2026-09-01T07:00:00Z" -> "01.09.2026" on the institution's calendar.
  auto day = [&](const std::string& instant) {
    std::tm tm{};
    if (instant.empty() || !strptime(instant.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return std::string();
    return RussianDate(FormatDate(LocalDate(Instant{std::chrono::seconds{timegm(&tm)}}, zone)));
  };
  // ... and "01.09.2026 10:00", the local minute of a signature.
  auto moment = [&](const std::string& instant) {
    auto t = ParseInstant(instant);
    if (!t || !IsKnownZone(zone)) return day(instant);
    const std::string local = LocalDateTime(*t, zone);
    return local.size() < 16 ? day(instant) : RussianDate(local.substr(0, 10)) + " " + local.substr(11, 5);
  };
  if (doc.sha256.empty())
    return Status(Code::kRefused,
                  "document: " + id + " was issued before mentorflow kept documents' text; re-issue it to print it",
                  "document");
  if (!doc.erased_at.empty())
    return Status(Code::kRefused,
                  "erased: the text of " + id + " was destroyed on " + LocalDay(doc.erased_at, zone) +
                      " with the personal data of someone it named (see the destruction act)",
                  "erased");
  if (!doc.intact)
    return Status(Code::kRefused,
                  "altered: document " + id + " no longer matches the SHA-256 it was issued with (its stored text"
                  " was changed); it is not printed — the curator re-issues it",
                  "altered");
  nlohmann::json places = nlohmann::json::array();
  for (const auto& p : doc.places)
    places.push_back({{"title", p.title},
                      {"name", p.name},
                      {"signed", !p.signed_at.empty()},
                      {"signed_at", day(p.signed_at)},
                      {"signed_time", moment(p.signed_at)},
                      {"via_account", p.via == "account"},
                      {"via_console", p.via == "console"},
                      {"representative", p.representative},
                      {"in_place", p.representative && p.capacity.rfind(kGuardianOf, 0) == 0},
                      {"represented", p.represented},
                      {"signed_by", p.signed_by_name},
                      {"paper", !p.entered_by.empty()},
                      {"paper_date", p.paper_date.empty() ? "" : RussianDate(p.paper_date)},
                      {"entered_by", p.entered_by_name}});
  const nlohmann::json ctx = {{"document",
                               {{"id", id},
                                {"title", doc.title},
                                {"issued", day(doc.issued_at)},
                                {"sha256", doc.sha256},
                                {"status", doc.status}}},
                              {"places", places},
                              {"institution", {{"name", institution}}}};
  out->title = doc.title;
  out->body = doc.content;
  return RenderDocumentTemplate(templates_dir, "signatures", ctx, &out->signatures);
}

Status CheckXhtml(const std::string& fragment) {
  Doc doc(nullptr, &xmlFreeDoc);
  return ParseChecked(fragment, &doc);
}

Status HtmlPage(const PrintableDocument& d, std::string* out) {
  if (Status s = CheckXhtml(d.body); !s.ok()) return s;
  if (Status s = CheckXhtml(d.signatures); !s.ok()) return s;
  *out = "<!DOCTYPE html>\n<html lang=\"ru\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + XmlEscape(d.title) +
         "</title>\n<style>\n" + kPageStyle + "</style>\n</head>\n<body>\n" + d.body +
         "\n<div class=\"signatures\">\n" + d.signatures + "\n</div>\n</body>\n</html>\n";
  return Status::Ok();
}

Status WriteOdt(const PrintableDocument& d, const std::string& path) {
  Doc body(nullptr, &xmlFreeDoc), signatures(nullptr, &xmlFreeDoc);
  if (Status s = ParseChecked(d.body, &body); !s.ok()) return s;
  if (Status s = ParseChecked(d.signatures, &signatures); !s.ok()) return s;
  const std::string content = ContentXml(xmlDocGetRootElement(body.get()), xmlDocGetRootElement(signatures.get()));
  const std::string styles = StylesXml(), meta = MetaXml(d.title);
  const std::string mimetype = "application/vnd.oasis.opendocument.text", manifest = kManifest;
  // libzip reads the buffers when the archive is closed: each stays alive until then.
  // Written beside the target and renamed over it: a reader never sees half a file.
  const std::string tmp = path + ".part";
  int err = 0;
  zip_t* za = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!za) return Status::Internal("cannot write " + path + " (libzip error " + std::to_string(err) + ")");
  auto add = [&](const char* name, const std::string& data, bool store) -> bool {
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    if (!src) return false;
    zip_int64_t i = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (i < 0) {
      zip_source_free(src);
      return false;
    }
    return zip_set_file_compression(za, static_cast<zip_uint64_t>(i), store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) == 0;
  };
  // The ODF package: `mimetype` first and stored, so a reader can tell the
  // type from the first bytes of the file.
  const bool ok = add("mimetype", mimetype, true) && add("META-INF/manifest.xml", manifest, false) &&
                  add("content.xml", content, false) && add("styles.xml", styles, false) &&
                  add("meta.xml", meta, false);
  if (!ok) {
    const std::string why = zip_strerror(za);
    zip_discard(za);
    std::remove(tmp.c_str());
    return Status::Internal("cannot write " + path + ": " + why);
  }
  if (zip_close(za) != 0) {
    const std::string why = zip_strerror(za);
    zip_discard(za);
    std::remove(tmp.c_str());
    return Status::Internal("cannot write " + path + ": " + why);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

Status ConvertToPdf(const std::string& odt_path, const std::string& pdf_path, int timeout_seconds) {
  auto on_path = [](const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (size_t b = 0; b <= dirs.size();) {
      size_t e = dirs.find(':', b);
      if (e == std::string::npos) e = dirs.size();
      const std::string candidate = dirs.substr(b, e - b) + "/" + program;
      if (e > b && ::access(candidate.c_str(), X_OK) == 0) return true;
      b = e + 1;
    }
    return false;
  };
  if (!on_path("soffice"))
    return Status::BadInput(
        "a PDF needs LibreOffice, which is not installed: apt-get install libreoffice-writer-nogui"
        " (or render --format odt or html and print that)");
  // LibreOffice runs one instance per profile: each conversion gets its own.
  char profile_template[] = "/tmp/mentorflow-lo-XXXXXX";
  if (!::mkdtemp(profile_template)) return Status::Internal("cannot make a LibreOffice profile directory");
  const std::string profile = profile_template;
  const std::string outdir = profile + "/out";
  fs::create_directories(outdir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{profile};
  std::vector<std::string> args = {"timeout",
                                   "--kill-after=10",
                                   std::to_string(timeout_seconds),
                                   "soffice",
                                   "-env:UserInstallation=file://" + profile + "/profile",
                                   "--headless",
                                   "--norestore",
                                   "--convert-to",
                                   "pdf",
                                   "--outdir",
                                   outdir,
                                   odt_path};
  int spawn_error = 0;
  const int code = RunQuietly(args, profile + "/stderr", &spawn_error);
  if (code == -2) return Status::Internal("cannot run soffice: " + std::string(std::strerror(spawn_error)));
  if (code == 124 || code == 137)
    return Status::Internal("LibreOffice did not convert " + odt_path + " within " + std::to_string(timeout_seconds) +
                            " s");
  const std::string produced = outdir + "/" + fs::path(odt_path).stem().string() + ".pdf";
  if (code != 0 || !fs::exists(produced))
    return Status::Internal("LibreOffice could not convert " + odt_path + " (exit " + std::to_string(code) + ")");
  std::error_code ec;
  fs::copy_file(produced, pdf_path, fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::Internal("cannot write " + pdf_path + ": " + ec.message());
  return Status::Ok();
}

int RunQuietly(std::vector<std::string> args, const std::string& stderr_path, int* spawn_error) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.empty() ? "/dev/null" : stderr_path.c_str(),
                                   O_WRONLY | O_CREAT, 0600);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    if (spawn_error) *spawn_error = rc;
    return -2;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Status CheckPrivateTarget(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return Status::BadInput("--out " + path + " is not a regular file (a link, a device, a pipe or a directory);"
                            " give the path of a new file or of a regular one to replace");
  return Status::Ok();
}

Status WritePrivateFile(const std::string& path, const std::function<Status(const std::string& tmp)>& write) {
  if (Status s = CheckPrivateTarget(path); !s.ok()) return s;
  std::string tmp = path + ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());  // 0600
  if (fd < 0) return Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  ::close(fd);
  Status result = write(tmp);
  if (result.ok() && ::chmod(tmp.c_str(), 0600) != 0)
    result = Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  if (result.ok()) {  // on the disk before it takes the name
    const int sync = ::open(tmp.c_str(), O_RDONLY);
    if (sync < 0 || ::fsync(sync) != 0) result = Status::Internal("cannot write " + path + ": " + std::strerror(errno));
    if (sync >= 0) ::close(sync);
  }
  if (result.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    result = Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  if (!result.ok()) ::unlink(tmp.c_str());
  return result;
}

}  // namespace mentorflow
