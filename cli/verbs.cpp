// SPDX-License-Identifier: MIT
// The verb table: every verb of the duroxide command, in the order help lists them.
#include "cli/verb.hpp"

namespace duroxide::cli {

const std::vector<VerbEntry>& verb_table() {
  static const std::vector<VerbEntry> table = {
      {"list", "List instances (all matches unless --limit)", define_list},
      {"show", "Show one instance: status, result, children", define_show},
      {"history", "Show the history of one execution of an instance", define_history},
      {"start", "Start an instance of an orchestration", define_start},
      {"raise", "Raise an event at an instance", define_raise},
      {"cancel", "Ask an instance to cancel", define_cancel},
      {"terminate", "End an instance without running its code again", define_terminate},
      {"suspend", "Hold an instance: its code runs no more until resumed", define_suspend},
      {"resume", "End the suspension of an instance", define_resume},
      {"rewind", "Run a failed instance again from its last good result", define_rewind},
      {"delete", "Delete an instance with its sub-orchestrations", define_delete},
      {"purge", "Delete the instances that finished before a given age", define_purge},
      {"stats", "Show store-wide figures", define_stats},
      {"wait", "Wait for an instance to complete or fail", define_wait},
      {"check", "Check every record of the store file (exit 1 with a report)", define_check},
      {"backup", "Write a consistent, compacted copy of the store", define_backup},
  };
  return table;
}

}  // namespace duroxide::cli
