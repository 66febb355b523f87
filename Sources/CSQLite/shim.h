#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call: the one setting the wrapper uses. Without
/// memory statistics every allocation skips a global mutex and its counters.
static inline int csqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
