"""A Python Pulumi program with a lithops-aca stack.

The typed SDK (`pulumi_lithops_aca`) is generated from the package's component provider, once,
in this folder (Node.js 20.19 or later runs the provider):

    npm install lithops-aca @pulumi/pulumi @pulumi/azure-native @pulumi/docker @pulumi/random
    pulumi package add ./node_modules/lithops-aca/pulumi-plugin
    pulumi config set azure-native:location westeurope
    pulumi up

Args are the stack config's keys in snake case; nested ones are plain dicts (or the SDK's
`...Args` classes). They decide which resources exist, so they are plain values, not Outputs
(`docker_hub_token` alone may be an Output).
"""

import pulumi
import pulumi_lithops_aca as lithops_aca

stack = lithops_aca.LithopsStack(
    "lithops",
    location="westeurope",
    runtimes=[
        # Up to a 600 s timeout a runtime is a Container App ...
        {"name": "default", "memory": 2048, "max_workers": 20},
        # ... above it, an event-driven Container Apps Job (one call per execution).
        {"name": "default", "memory": 4096, "timeout": 1800, "max_workers": 5},
    ],
    storage={"job_data_retention_days": 14},
    tags={"team": "data-platform"},
)

# `pulumi stack output clientConfig --show-secrets > .lithops_config` configures the client.
pulumi.export("clientConfig", stack.client_config)
pulumi.export("runtimes", stack.runtimes)
pulumi.export("storageAccountName", stack.storage_account_name)
