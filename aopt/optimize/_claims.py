"""What a run's result proves: one claim, said the same way on every surface.

A run ends with exactly one claim (stored in the run's `convergence` facts as `claim`):

| claim           | what it proves                                                             |
|-----------------|----------------------------------------------------------------------------|
| `optimum`       | the problem's known optimum f* was reached (benchmarks)                    |
| `global`        | global evidence: k of n restarts from spread-out starts agree on the best  |
|                 | value (within a tolerance); strong evidence, not a proof                   |
| `local`         | a local minimum, verified locally (KKT / stationarity with curvature); a   |
|                 | deeper minimum may exist elsewhere                                         |
| `not_converged` | nothing was proven (why is in the reason: budget, plateau, saddle, ...)    |
| `unbounded`     | the objective has no finite minimum (reached -inf or ran off to infinity)  |
| `infeasible`    | no point satisfying the constraints was found                              |

`converged` (the run field) is true for the first three. No surface says a bare
"converged": it says the claim's label, so a local result always reads as local.
"""

from __future__ import annotations

__all__ = ["CLAIMS", "VERIFIED_CLAIMS", "claim_of", "claim_label", "claim_sentence", "with_evidence",
           "GLOBAL_AGREE"]

GLOBAL_AGREE = 3  # independent searches that must agree on the best value for a global claim

# claim -> (short label for tables, phrase for sentences)
CLAIMS: dict[str, tuple[str, str]] = {
    "optimum": ("known optimum", "the known optimum was reached"),
    "global": ("global evidence", "global evidence: independent restarts agree on the best value"),
    "local": ("local minimum", "a local minimum (verified locally; a deeper one may exist elsewhere)"),
    "not_converged": ("not converged", "not converged"),
    "unbounded": ("unbounded", "the objective is unbounded: no finite minimum"),
    "infeasible": ("infeasible", "no feasible point was found"),
}
VERIFIED_CLAIMS = frozenset({"optimum", "global", "local"})


def _facts(record) -> dict:
    """The convergence facts of a run record, or the facts themselves."""
    if not isinstance(record, dict):
        return {}
    if "convergence" in record or "status" in record:
        facts = record.get("convergence")
        out = dict(facts) if isinstance(facts, dict) else {}
        if "converged" not in out and record.get("converged") is not None:
            out["converged"] = record.get("converged")
        return out
    return record


def claim_of(record) -> str | None:
    """The claim of a run record (or of convergence facts); None when the run was never checked.

    Runs stored before claims existed are read by their reason: unbounded and infeasible
    are recognised, a known optimum from its wording, and any other verified result is
    (at most) a local minimum.
    """
    facts = _facts(record)
    claim = facts.get("claim")
    if claim in CLAIMS:
        return claim
    if not facts:
        return None
    reason = str(facts.get("reason") or "")
    if facts.get("unbounded"):
        return "unbounded"
    if reason.startswith("infeasible"):
        return "infeasible"
    if facts.get("converged"):
        return "optimum" if "known optimum" in reason else "local"
    if facts.get("converged") is None and not reason:
        return None
    return "not_converged"


def claim_label(record) -> str:
    """Short label for a table cell: "known optimum", "global evidence (4/5)", "local minimum", ...

    "—" for a run that was never checked (still running, or failed before the check).
    """
    claim = claim_of(record)
    if claim is None:
        return "—"
    label = CLAIMS[claim][0]
    if claim == "global":
        evidence = _facts(record).get("evidence") or {}
        if evidence.get("agree") and evidence.get("restarts"):
            label += f" ({evidence['agree']}/{evidence['restarts']})"
    return label


def claim_sentence(record) -> str:
    """The claim and its reason as one sentence, for `/show`, reports and the agent's answer."""
    claim = claim_of(record)
    if claim is None:
        return "not checked"
    facts = _facts(record)
    reason = str(facts.get("reason") or "").strip()
    phrase = CLAIMS[claim][1]
    if not reason or reason == phrase:
        return phrase
    if reason.lower().startswith(("not converged", "no finite", "the objective", "infeasible", "no feasible",
                                  "a local minimum", "reached the known optimum")):
        return reason  # the reason already says what the claim is
    return f"{CLAIMS[claim][0]}: {reason}"


def with_evidence(facts: dict, evidence: dict | None, *, maximize: bool = False) -> dict:
    """Facts of a check raised to a global claim when enough independent searches agree.

    Only a point verified locally can be raised: k of n searches from spread-out starts
    reaching the same best value is evidence that no deeper minimum was missed, not a proof.
    """
    if not evidence:
        return facts
    out = dict(facts)
    out["evidence"] = dict(evidence)
    agree, restarts = int(evidence.get("agree") or 0), int(evidence.get("restarts") or 0)
    # a known optimum that was not reached outranks any agreement: the result stays local
    if out.get("claim") == "local" and agree >= GLOBAL_AGREE and out.get("gap_to_optimum") is None \
            and evidence.get("confirmed", False):
        out["claim"] = "global"
        out["converged"] = True
        local = str(facts.get("reason") or "").replace("verified locally: ", "")
        local = local.replace("; nothing here shows whether a deeper minimum exists elsewhere", "")
        among = f" ({evidence['check']} among them)" if evidence.get("check") else ""
        out["reason"] = (f"{agree} of {restarts} independent searches from spread-out starts{among} reached "
                         f"the same best value (within {evidence.get('tol', 0):.1g}), and the point verifies "
                         f"locally ({local}); strong evidence of the global {'maximum' if maximize else 'minimum'}, "
                         f"not a proof")
    return out
