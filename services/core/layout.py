"""The layout every page shares, in Jinja2 (core/jinja2/core/layout.html), for the pages
of Django's templates too.

A page of Django's templates extends ``core/base.html`` as it always did and fills its
blocks (``title``, ``main_attrs``, ``content``). That template is only this tag around
the three blocks: it renders each block as Django would (a page's own block, or the
default), then the Jinja2 layout with them and the page's context. Django's template
engine spent about 0.4 ms a page resolving the layout node by node; Jinja2 compiles it
to Python (docs/performance.md, "The layout every page shares"). The HTML is the same,
byte for byte (tests/core/test_layout.py).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.loader_tags import BlockNode
from django.utils.safestring import SafeString

register = template.Library()


class LayoutNode(Node):
    # The blocks inside are found by ``{% extends %}`` (Node.get_nodes_by_type).
    child_nodelists = ("nodelist",)

    def __init__(self, name: str, nodelist: NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: Context) -> str:
        values: dict[str, Any] = dict(context.flatten())  # type: ignore[arg-type]
        for node in self.nodelist:
            if isinstance(node, BlockNode):
                # A block renders what Django's templates escaped: safe as it is.
                values[node.name] = SafeString(node.render(context))  # nosec B703
        layout = engines["jinja2"].get_template(self.name)
        return str(layout.render(values))


@register.tag
def layout(parser: Parser, token: Token) -> LayoutNode:
    """``{% layout "core/layout.html" %}{% block ... %}...{% endlayout %}``."""
    try:
        _tag, quoted = token.split_contents()
    except ValueError:
        raise template.TemplateSyntaxError("layout takes the Jinja2 layout's name") from None
    nodelist = parser.parse(("endlayout",))
    parser.delete_first_token()
    return LayoutNode(quoted.strip("\"'"), nodelist)
