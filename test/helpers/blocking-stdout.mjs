// Node's test runner child writes its results to the parent over a pipe, and on Linux pipe writes
// are asynchronous: --test-force-exit then exits with the tail of a file's results still queued,
// and those tests vanish from the count with exit code 0 (nodejs/node#64833). Blocking writes
// deliver every result before the exit.
process.stdout._handle?.setBlocking?.(true)
