-- schema-keys.lua — a plan that prints every configuration key as SECTION.KEY, one a line, from
-- the schema the binary was built with (runtime/schema.c). cmake/completion.lua runs it for the
-- --set completion. Touches nothing.
local schema = require "flashrun.schema"

return {
  name = "schema-keys",
  description = "print the configuration keys of the schema",
  journal = false,
  steps = {
    { id = "print", name = "print the keys", run = function()
        for _, section in ipairs(schema.sections()) do
          for _, k in ipairs(schema.keys(section)) do io.write(section, ".", k.key, "\n") end
        end
      end },
  },
}
