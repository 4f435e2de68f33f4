// person add, update, show, export, request, erase; consent sign, revoke.
#include <iostream>

#include "app/accounts.h"
#include "app/people.h"
#include "cli/common.h"
#include "engine/text.h"

namespace mentorflow::cli {

namespace {

// --attr NAME=VALUE, as given.
Status ParseAttrs(const std::vector<std::string>& given, std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& a : given) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::BadInput("--attr: expected NAME=VALUE, got '" + EscapeControls(a) + "'");
    out->push_back({a.substr(0, eq), a.substr(eq + 1)});
  }
  return Status::Ok();
}

struct Options {
  PersonRecord person;
  PersonUpdate update;
  std::string name, birth, email, guardian, id, kind = "information", consent_person, paper, base_url;
  std::string purpose = kDefaultPurpose;
  bool print_link = false;
  std::string text;
  std::vector<std::string> add_attrs, update_attrs;
  CLI::Option *o_name = nullptr, *o_birth = nullptr, *o_email = nullptr, *o_guardian = nullptr;
  // person update: the particulars a consent states, each only when given.
  std::string particulars[6];
  CLI::Option* o_particulars[6] = {};
};

// The options of what a consent states (152-FZ art. 9 part 4), for person
// add (into the record) and update (each given one, into the update).
constexpr const char* kParticularOptions[6][2] = {
    {"--address", "The address of residence, as a consent states it"},
    {"--document-kind", "The identity document: its kind (паспорт, свидетельство о рождении)"},
    {"--document-number", "The identity document: its series and number"},
    {"--document-issued", "The identity document: the date it was issued, YYYY-MM-DD"},
    {"--document-issuer", "The identity document: who issued it"},
    {"--authority", "For a minor: the document of the guardian's authority (a birth certificate, a decision)"}};

}  // namespace

void AddPeopleCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* person = app.add_subcommand("person", "People: add, update (a curator or the director; the particulars a consent "
                                               "states also the person or their guardian), show (--as)");
  person->require_subcommand(1);
  person->fallthrough();
  auto* add = person->add_subcommand("add", "Register a person with their roles");
  add->add_option("ID", o->person.id, "The person's id")->required();
  add->add_option("--name", o->person.name, "Full name (personal data, kept apart)")->required();
  add->add_option("--role", o->person.roles, "A role (repeat for several)")->required();
  add->add_option("--birth", o->person.birth, "Birth date, YYYY-MM-DD");
  add->add_option("--guardian", o->person.guardian, "The guardian's person id (for a minor)");
  add->add_option("--email", o->person.email, "Where e-mailed reminders go");
  add->add_option("--attr", o->add_attrs, "NAME=VALUE: an attribute the workflows declare (attributes:), repeatable");
  {
    std::string* into[6] = {&o->person.address,         &o->person.document.kind,   &o->person.document.number,
                            &o->person.document.issued, &o->person.document.issuer, &o->person.authority};
    for (int i = 0; i < 6; ++i) add->add_option(kParticularOptions[i][0], *into[i], kParticularOptions[i][1]);
  }
  auto* update = person->add_subcommand("update", "Change a person's name, birth date, e-mail, guardian or roles");
  update->add_option("ID", o->update.id, "The person's id")->required();
  o->o_name = update->add_option("--name", o->name, "Full name");
  o->o_birth = update->add_option("--birth", o->birth, "Birth date, YYYY-MM-DD");
  o->o_email = update->add_option("--email", o->email, "E-mail address (empty: none)");
  o->o_guardian = update->add_option("--guardian", o->guardian, "The guardian's person id (empty: none)");
  update->add_option("--add-role", o->update.add_roles, "A role to add (repeat for several)");
  update->add_option("--remove-role", o->update.remove_roles, "A role to remove (repeat for several)");
  update->add_option("--attr", o->update_attrs, "NAME=VALUE: set an attribute (NAME= removes it), repeatable");
  for (int i = 0; i < 6; ++i)
    o->o_particulars[i] = update->add_option(
        kParticularOptions[i][0], o->particulars[i],
        std::string(kParticularOptions[i][1]) + " (empty: none; the person or their guardian may change it)");
  auto* show = person->add_subcommand(
      "show", "A person's record (the person, their guardian, a curator or the director; each read is recorded)");
  show->add_option("ID", o->id, "The person's id")->required();
  auto* export_ = person->add_subcommand(
      "export", "Everything stored about a person, as JSON (the person, their guardian, a curator or the director)");
  export_->add_option("ID", o->id, "The person's id")->required();
  auto* request = person->add_subcommand(
      "request", "A subject's request for information about their data: answered within 10 working days (the "
                 "curators are reminded; see 'personal_data')");
  request->add_option("ID", o->id, "The person's id")->required();
  request->add_option("--kind", o->kind,
                      "What is asked: information (10 working days), correction or erasure (7 working days)")
      ->check(CLI::IsMember({"information", "correction", "erasure"}));
  request->add_option("--text", o->text, "What to correct, or why the data should be destroyed (correction, erasure)");
  auto* erase = person->add_subcommand(
      "erase", "Destroy a person's personal data once their consent is revoked or nothing running names them "
               "(a curator or the director); writes the destruction act act:ID");
  erase->add_option("ID", o->id, "The person's id")->required();

  auto* invite = person->add_subcommand(
      "invite", "Send a person a single-use link (72 hours) to set a password for mentorflow serve (a curator or "
                "the director; the person needs an e-mail address); delivered by 'deliver'");
  invite->add_option("ID", o->id, "The person's id")->required();
  invite->add_flag("--print-link", o->print_link,
                   "Also print the link (the operator hands it over in person, or tries the demo as that person)");
  invite->add_option("--base-url", o->base_url, "Where the link points (default: the setting base_url)");

  auto* consent = app.add_subcommand("consent", "Consent to personal data processing: sign or revoke");
  consent->require_subcommand(1);
  consent->fallthrough();
  auto* sign = consent->add_subcommand(
      "sign", "Issue and sign a person's consent document (the person, their guardian for a minor, or a curator "
              "recording a paper form with --paper)");
  sign->add_option("PERSON", o->consent_person, "Person id")->required();
  sign->add_option("--paper", o->paper, "A curator records a paper form: the date written on it (YYYY-MM-DD)");
  auto* revoke = consent->add_subcommand("revoke", "Revoke a person's consent");
  revoke->add_option("PERSON", o->consent_person, "Person id")->required();
  for (auto* sub : {sign, revoke})
    sub->add_option("--purpose", o->purpose,
                    "What the data is processed for, as a workflow declares it (`purpose:`; default: mentoring)");

  out->push_back({add, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    if (Status s = app::NeedActor(ctx); !s.ok()) return cmd.Report(s);
                    if (Status s = ParseAttrs(o->add_attrs, &o->person.attributes); !s.ok()) return cmd.Report(s);
                    if (Status s = app::AddPerson(ctx, o->person); !s.ok()) return cmd.Report(s);
                    if (g.json) PrintJson({{"id", o->person.id}}, -1);
                    else std::cout << o->person.id << "\n";
                    return 0;
                  }});
  out->push_back({update, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    if (Status s = app::NeedActor(ctx); !s.ok()) return cmd.Report(s);
                    PersonUpdate& u = o->update;
                    if (*o->o_name) u.name = o->name;
                    if (*o->o_birth) u.birth = o->birth;
                    if (*o->o_email) u.email = o->email;
                    if (*o->o_guardian) u.guardian = o->guardian;
                    std::optional<std::string>* into[6] = {&u.address,         &u.document_kind,   &u.document_number,
                                                           &u.document_issued, &u.document_issuer, &u.authority};
                    for (int i = 0; i < 6; ++i)
                      if (*o->o_particulars[i]) *into[i] = o->particulars[i];
                    if (Status s = ParseAttrs(o->update_attrs, &u.attributes); !s.ok()) return cmd.Report(s);
                    if (Status s = app::UpdatePerson(ctx, u); !s.ok()) return cmd.Report(s);
                    if (g.json) PrintJson({{"id", u.id}}, -1);
                    else std::cout << u.id << ": updated\n";
                    return 0;
                  }});
  out->push_back({show, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ReadPerson(ctx, o->id);
                    if (!r.ok()) return cmd.Report(r.status());
                    const PersonRecord& p = *r;
                    if (g.json) {
                      PrintJson(app::PersonJson(p));
                      return 0;
                    }
                    std::cout << "id: " << E(p.id) << "\nname: " << E(p.name) << "\nroles:";
                    for (const auto& role : p.roles) std::cout << " " << E(role);
                    std::cout << "\n";
                    if (!p.birth.empty()) std::cout << "birth: " << E(p.birth) << "\n";
                    if (!p.email.empty()) std::cout << "email: " << E(p.email) << "\n";
                    if (!p.guardian.empty()) std::cout << "guardian: " << E(p.guardian) << "\n";
                    if (!p.address.empty()) std::cout << "address: " << E(p.address) << "\n";
                    if (!p.document.Empty())
                      std::cout << "document: " << E(p.document.kind) << " " << E(p.document.number) << ", issued "
                                << E(p.document.issued) << " by " << E(p.document.issuer) << "\n";
                    if (!p.authority.empty()) std::cout << "authority: " << E(p.authority) << "\n";
                    for (const auto& [k, v] : p.attributes) std::cout << E(k) << ": " << E(v) << "\n";
                    return 0;
                  }});
  out->push_back({export_, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ExportPerson(ctx, o->id);
                    if (!r.ok()) return cmd.Report(r.status());
                    std::cout << *r << "\n";
                    return 0;
                  }});
  out->push_back({request, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::RequestInformation(ctx, o->id, o->kind, o->text);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::InstanceJson(*r));
                    else std::cout << E(r->record.id) << "\n";
                    return 0;
                  }});
  out->push_back({erase, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ErasePerson(ctx, o->id);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::DocumentJson(*r));
                    else std::cout << o->id << ": personal data destroyed; " << r->Id() << "\n";
                    return 0;
                  }});
  out->push_back({invite, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    std::string link;
                    if (Status s = app::InvitePerson(ctx, o->id, {o->base_url}, o->print_link ? &link : nullptr);
                        !s.ok())
                      return cmd.Report(s);
                    if (g.json) {
                      nlohmann::json j = {{"person", o->id}, {"invited", true}};
                      if (o->print_link) j["link"] = link;
                      PrintJson(j, -1);
                    } else {
                      std::cout << o->id << ": invitation in the outbox (sent by 'deliver')\n";
                      if (o->print_link) std::cout << link << "\n";
                    }
                    return 0;
                  }});
  auto set_consent = [&g, o](bool given) {
    DbCommand cmd(g);
    if (!cmd.ok()) return cmd.code;
    auto ctx = cmd.Context();
    if (Status s = app::SetConsent(ctx, {o->consent_person, given, o->paper, o->purpose}); !s.ok()) return cmd.Report(s);
    if (g.json) PrintJson({{"person", o->consent_person}, {"consent", given}, {"purpose", o->purpose}}, -1);
    else
      std::cout << o->consent_person << ": consent" << (o->purpose == kDefaultPurpose ? "" : " for " + o->purpose) << " "
                << (given ? "signed" : "revoked") << "\n";
    return 0;
  };
  out->push_back({sign, [set_consent] { return set_consent(true); }});
  out->push_back({revoke, [set_consent] { return set_consent(false); }});
}

}  // namespace mentorflow::cli
