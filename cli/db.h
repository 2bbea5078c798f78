/* db.h -- opening the CLI's store and reading its settings. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>

#include "cli.h"
#include "json.h"

/*!
 * Open the store at cli->db (flags: AZ_OPEN_*).  On failure prints the
 * one-line reason (no store, not trusted and why, a bad ACMEZONE_MAPSIZE,
 * the store's error) and returns RC_STORE or RC_INPUT with *store NULL.
 * The caller closes *store with az_store_close().
 */
int db_open(cli_t *cli, unsigned flags, az_store_t **store);

/*!
 * The settings for a command that reads them: --zone and --scheme if
 * given (the store is then not opened for the zone), else the store's.
 * need_zone: a configuration without a challenge zone is an error
 * (RC_STORE).  \return RC_OK, or the error printed.
 */
int db_config(cli_t *cli, az_config_t *cfg, bool need_zone);

/*! The store's own settings, from a read snapshot.  \return as db_open(). */
int db_read_config(cli_t *cli, az_config_t *cfg);

/*! The same, and the history's limits if lim is not NULL. */
int db_read_settings(cli_t *cli, az_config_t *cfg, az_hist_limits_t *lim);

/*! Print that the store has no challenge zone (for need_zone callers). */
void db_no_zone(const cli_t *cli);

/*
 * For db_list(): the owner name of a name as the user gave it, under the
 * store's settings; prints its own error.  \return RC_OK or RC_INPUT.
 */
typedef int (*db_name_fn)(const cli_t *cli, const az_config_t *cfg, const char *text,
                          uint8_t name[AZ_NAME_MAXLEN]);

/* For db_list(): one value of a record, at the owner name given as text. */
typedef void (*db_value_fn)(void *ctx, const char *name, const az_val_t *val);

/*!
 * What list-like commands read: in one read snapshot of the store, the
 * record at the name map() makes of text (nothing if there is none), or
 * without text every record whose name keep() accepts (keep NULL: all);
 * each value passed to cb.  A record that does not decode, or a key that
 * is no name, is skipped with a warning.  With cli->json the output is
 * one JSON array in *j (cb adds its elements).
 * \return RC_OK, or RC_STORE/RC_INPUT with the error printed.
 */
int db_list(cli_t *cli, const char *text, db_name_fn map,
            bool (*keep)(const uint8_t *name), db_value_fn cb, void *ctx, json_t *j);
