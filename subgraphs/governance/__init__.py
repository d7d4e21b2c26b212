"""Governance subgraph: policies, compliance, approvals, audit; adds Service.compliance."""
