// AuditBatch: the audit writes of one I/O thread's connections, one per turn of the thread
// (issue 12). An answer that carries a receipt may not leave before its record is in the audit
// file. Rather than each connection writing its records at the end of its own turn (one write a
// connection a turn), a connection that answered audited requests joins the batch and holds its
// output; the batch posts one Flush() to the thread's io_context, which runs after the handlers
// that were ready with the join, and resumes every waiting connection: the first one's
// Auditor::Sync writes the records of all of them (and of the other threads: the log's group
// write), the later ones find theirs written.
//
// Thread safety: not thread-safe; used only on its I/O thread.
#ifndef SHIXIN_DAEMON_AUDIT_BATCH_H_
#define SHIXIN_DAEMON_AUDIT_BATCH_H_

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <utility>
#include <vector>

namespace shixin {

class AuditBatch {
 public:
  // What waits in the batch.
  class Waiter {
   public:
    // Called once per Join(), on the I/O thread: write the records appended before the join
    // (Auditor::Sync) and go on.
    virtual void OnAuditTurn() = 0;

   protected:
    ~Waiter() = default;
  };

  // `executor` is the I/O thread's (its io_context runs only on that thread).
  explicit AuditBatch(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  AuditBatch(const AuditBatch&) = delete;
  AuditBatch& operator=(const AuditBatch&) = delete;

  // Has `waiter` resumed by the next Flush(), keeping `keep_alive` (which owns the waiter)
  // until then. REQUIRES: the waiter has not joined since its last OnAuditTurn().
  void Join(Waiter* waiter, std::shared_ptr<void> keep_alive);

  // Returns the number of joins waiting for the next Flush().
  size_t waiting() const { return waiting_.size(); }

 private:
  // Resumes the waiters that joined before it was posted (a waiter may join again meanwhile:
  // that is for the next one).
  void Flush();

  boost::asio::any_io_executor executor_;
  std::vector<std::pair<Waiter*, std::shared_ptr<void>>> waiting_;
  std::vector<std::pair<Waiter*, std::shared_ptr<void>>> flushing_;  // reused
  bool posted_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_AUDIT_BATCH_H_
