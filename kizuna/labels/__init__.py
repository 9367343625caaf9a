"""Confidentiality labels in pure Python (no Django): policies, labels, the access decision, display strings.

The model follows STANAG 4774: a label names a policy, a classification ordered within that policy, and categories
that are PERMISSIVE (one value held suffices), RESTRICTIVE (every value must be held) or INFORMATIVE (no effect);
Kizuna adds TLP 2.0 with named recipients for TLP:RED. Everything that decides who may see a record lives here so
that it can be tested exhaustively without a database.
"""

from kizuna.labels.decision import may_see, visible_among_labels
from kizuna.labels.lattice import dominates, least_upper_bound
from kizuna.labels.model import TLP, Label, LabelError, Subject
from kizuna.labels.policy import Category, CategoryType, Classification, Policy, PolicyRegistry, load_policy

__all__ = [
    "TLP",
    "Category",
    "CategoryType",
    "Classification",
    "Label",
    "LabelError",
    "Policy",
    "PolicyRegistry",
    "Subject",
    "dominates",
    "least_upper_bound",
    "load_policy",
    "may_see",
    "visible_among_labels",
]
