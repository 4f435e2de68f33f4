// What the use cases return: the stored records, with what people read
// beside the ids (titles of workflows, states and fields from the YAML; the
// names of the people an instance names). JSON of these is app/codec.h's.
#pragma once

#include <string>
#include <vector>

#include "storage/store.h"

namespace mentorflow::app {

// One set field of an instance, in its workflow's order.
struct FieldView {
  std::string name, title;  // title: from the YAML, else the name
  std::string text;         // the value as text, as stored
  std::string value_title;  // an enum value's title, or a person field's person's name; may be empty
  bool person = false;      // a person field
};

struct InstanceView {
  InstanceRecord record;
  std::string workflow_title, state_title;  // the YAML's, else the names
  std::vector<FieldView> fields;
  bool fields_readable = true;  // false: the stored fields are not JSON (a hand-edited database)
};

struct HistoryEntryView {
  HistoryRecord entry;
  std::string actor_name;  // "" for the system or an unknown id
  std::string from_title, to_title;
};

struct HistoryView {
  std::string instance;
  std::vector<HistoryEntryView> entries;
};

}  // namespace mentorflow::app
