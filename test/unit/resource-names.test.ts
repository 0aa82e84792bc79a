import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { environmentName, registryName, storageAccountName, uniqueSuffix } from "../../azure/resource-names.ts";

describe("names of a stack's shared Azure resources", () => {
  it("the unique suffix is stable for the same place and differs for another", () => {
    assert.equal(uniqueSuffix("sub", "rg", "dev"), uniqueSuffix("sub", "rg", "dev"));
    assert.notEqual(uniqueSuffix("sub", "rg", "dev"), uniqueSuffix("sub", "rg", "prod"));
    assert.match(uniqueSuffix("anything"), /^[0-9a-f]{13}$/);
  });

  it("storage account and registry names are 3-24 lower case letters and digits", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (parts) => {
        const suffix = uniqueSuffix(...parts);
        for (const name of [storageAccountName(suffix), registryName(suffix)]) assert.match(name, /^[a-z0-9]{3,24}$/);
      }),
    );
  });

  it("the environment name is 2-60 lower case letters, digits and hyphens, from a letter, for any stack name", () => {
    assert.equal(environmentName("Dev_Stack.1"), "lithops-dev-stack-1");
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (stack) => {
        assert.match(environmentName(stack), /^[a-z][a-z0-9-]{1,59}$/);
        assert.ok(!environmentName(stack).endsWith("-"));
      }),
    );
  });
});
