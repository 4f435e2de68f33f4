// An institution held in memory: people, consents, instances, timers, the
// outbox and issued documents, driven through the pure dispatch core.
//
// It is the reference for what storage does (apply a Decision as a whole or
// not at all; fire due timers; put reminders in the outbox), used by the
// scenario runner, the randomized tests and the in-memory demo. Not
// thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/loader.h"

namespace mentorflow {

class MemoryInstitution : public World {
 public:
  // `catalog` must outlive the institution. `zone` is the IANA time zone in
  // which dates are calendar dates ("" = UTC).
  explicit MemoryInstitution(const Catalog& catalog, std::string zone = "");

  struct Person {
    std::string id;
    std::string name;
    std::vector<std::string> roles;
    bool consent = false;
  };
  void AddPerson(Person p);
  Status SetConsent(const std::string& person_id, bool given);
  Actor ActorFor(const std::string& person_id) const;  // "system" gives the system actor

  struct Instance {
    std::string id;
    const Definition* def = nullptr;
    Snapshot snap;
    std::vector<HistoryEntry> history;
  };

  // What a command did: its status (Ok, or the refusal's code and message),
  // the rule that refused, and the instance's id and state afterwards.
  struct Result {
    Status status;
    std::string rule;
    std::string id;
    std::string state;
  };

  Result Start(const std::string& workflow, const Input& input, const std::string& parent,
               const std::string& actor_id, const Now& now);
  Result Send(const std::string& instance_id, const std::string& event, const Input& input,
              const std::string& actor_id, const Now& now);
  // Records `actor_id`'s signature on the latest issue of document `doc`.
  Result Sign(const std::string& instance_id, const std::string& doc, const std::string& actor_id);

  struct SentReminder {
    std::string instance;
    ReminderSpec spec;
    std::vector<std::string> recipients;
  };
  struct FiredTimer {
    std::string instance;
    std::string event;
    Date due;
    Result result;
  };
  struct TickReport {
    std::vector<FiredTimer> fired;
    std::vector<SentReminder> reminders;
  };
  // Fires every timer whose due date is before `now.today` (in due order),
  // then sends every reminder due on or before it. Repeating a tick does nothing.
  TickReport Tick(const Now& now);

  const Instance* Find(const std::string& id) const;
  const std::map<std::string, Instance>& instances() const { return instances_; }
  struct IssuedDocument {
    std::string instance;
    int document = -1;
    std::set<std::string> signatures;  // person ids
    Date issued;
  };
  const std::vector<IssuedDocument>& documents() const { return documents_; }
  size_t pending_timers() const { return timers_.size(); }
  size_t pending_reminders() const { return outbox_.size(); }

  // World
  bool HasConsent(std::string_view person_id) const override;
  bool PersonHasRole(std::string_view person_id, std::string_view role) const override;
  ChildCount CountChildren(std::string_view parent_id, std::string_view workflow,
                           const std::vector<std::string>& states) const override;
  std::int64_t CountInstances(const Condition& c) const override;

 private:
  void ApplyDecision(Instance& inst, const Decision& d);
  bool DocumentSigned(const Definition& def, const Instance& inst, const IssuedDocument& doc) const;
  void RefreshSigned(Instance& inst);
  std::vector<std::string> Recipients(const Instance& inst, const std::vector<std::string>& roles) const;

  const Catalog& catalog_;
  std::string zone_;
  std::map<std::string, Person> people_;
  std::map<std::string, Instance> instances_;
  struct Timer {
    std::string instance;
    TimerSpec spec;
  };
  std::vector<Timer> timers_;
  struct Pending {
    std::string instance;
    ReminderSpec spec;
  };
  std::vector<Pending> outbox_;
  std::vector<IssuedDocument> documents_;
  long next_id_ = 1;
};

}  // namespace mentorflow
