"""Static limits on a GraphQL document, checked at validation (before any resolver runs):

- depth: at most NT_GRAPHQL_MAX_DEPTH levels of fields (strawberry's QueryDepthLimiter);
- cost: every field costs 1, and a list field's selections cost as many times as the rows it may return
  (its `first`, or the page maximum when `first` is a variable or absent); at most NT_GRAPHQL_MAX_COST;
- aliases (MaxAliasesLimiter) and tokens (MaxTokensLimiter): a document cannot ask for the same
  expensive field a thousand times or be a megabyte of punctuation.

A document over a limit is answered 400 with the reason; nothing of it has run."""

from django.conf import settings
from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, IntValueNode
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

PAGE_MAX = 100
PAGE_DEFAULT = 20


class CostLimit(ValidationRule):
    def enter_operation_definition(self, node, *_args):
        cost = self._cost(node.selection_set, set())
        if cost > settings.GRAPHQL_MAX_COST:
            self.report_error(GraphQLError(
                f"This query may cost {cost} (fields x rows), over the limit of {settings.GRAPHQL_MAX_COST}: "
                f"ask for fewer rows (first) or fewer nested lists.", node))

    def _cost(self, selection_set, fragments: set[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self._cost(selection.selection_set, fragments)
                total += 1 + inner * _rows(selection) if inner else 1
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in fragments:  # a cycle is the spec's rule to report
                    total += self._cost(fragment.selection_set, fragments | {name})
        return total


def _rows(field: FieldNode) -> int:
    """How many rows a field may return: its literal `first` (at most the page maximum); the page maximum
    when `first` is a variable; a list field's default page without `first`; else 1."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), PAGE_MAX))
            return PAGE_MAX  # a variable: the worst case
    return PAGE_DEFAULT if field.name.value in LIST_FIELDS else 1


# Fields that return pages (they take `first`); their default page is PAGE_DEFAULT rows.
LIST_FIELDS = {"sources", "articles", "signals", "outcomes"}


def extensions() -> list:
    """Factories: each request gets fresh extensions, with the limits the settings say at that moment."""
    return [
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        lambda: AddValidationRules([CostLimit]),
    ]
