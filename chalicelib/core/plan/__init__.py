"""Auditing a Terraform plan against the live network (SPEC §8).

``reader`` turns ``terraform show -json`` output into typed planned changes, ``apply``
turns a snapshot and those changes into the snapshot after apply, ``diff`` compares the
findings before and after. All three are pure (no boto3); ``command`` wires them to the
collector for the CLI, and ``render`` prints the result.
"""
