#include <mysql.h>
#include <mariadb_rpl.h>

/* Swift cannot call the variadic mariadb_rpl_optionsv nor the mariadb_rpl_init macro: one typed wrapper per option
   the binlog client sets. */
static inline MARIADB_RPL *swift_mariadb_rpl_init(MYSQL *mysql) {
    return mariadb_rpl_init_ex(mysql, MARIADB_RPL_VERSION);
}
static inline int swift_mariadb_rpl_set_filename(MARIADB_RPL *rpl, const char *name, size_t length) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, name, length);
}
static inline int swift_mariadb_rpl_set_start(MARIADB_RPL *rpl, unsigned long position) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, position);
}
static inline int swift_mariadb_rpl_set_server_id(MARIADB_RPL *rpl, unsigned int id) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, id);
}
static inline int swift_mariadb_rpl_set_flags(MARIADB_RPL *rpl, unsigned int flags) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags);
}
