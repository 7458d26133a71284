-- Secrets never reach the terminal, the JSON log or the dry-run record.
return {
  name = "secrets-test",
  description = "masking and dry-run journal recording",
  steps = {
    { name = "leak", run = function(ctx)
        log.info("MARK password is %s", config.source.mysql_password)
        log.warn("MARK generated %s", secret("Gen-Erated-42"))
        log.info("MARK generated again Gen-Erated-42 dry_run=%s", tostring(dry_run))
        return { note = "journal-entry" }
      end },
  },
}
