"""The line-layout engine: how black 26 (stable style) splits one logical line that does not fit.

Tokens (`Leaf`) carry what black reads from its syntax tree, precomputed by `_tree`: spacing, delimiter
priorities, which node a bracket belongs to. `Line` and its bracket tracking mirror black's `lines.Line`
and `brackets.BracketTracker`; the split functions mirror `linegen.py` function by function (named after
them), including the state black mutates while it tries splits (bracket depths re-marked on every line
built, invisible parentheses made visible, first-leaf prefixes dropped, leaves orphaned by a second
opinion), because later decisions read that state.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._text import str_width

# Token types. Only the distinctions black's layout code makes are kept.
NAME, NUMBER, STRING, OP = 1, 2, 3, 4
LPAR, RPAR, LSQB, RSQB, LBRACE, RBRACE = 5, 6, 7, 8, 9, 10
COMMA, DOT, COLON, EQUAL, RARROW, AT, STAR, DOUBLESTAR = 11, 12, 13, 14, 15, 16, 17, 18
OPENING = frozenset((LPAR, LSQB, LBRACE))
CLOSING = frozenset((RPAR, RSQB, RBRACE))
BRACKETS = OPENING | CLOSING
CLOSING_OF = {LPAR: RPAR, LSQB: RSQB, LBRACE: RBRACE}

# Delimiter priorities (black `brackets.py`).
COMPREHENSION_PRIORITY = 20
COMMA_PRIORITY = 18
TERNARY_PRIORITY = 16
LOGIC_PRIORITY = 14
STRING_PRIORITY = 12  # between the pieces of an implicit string concatenation
COMPARATOR_PRIORITY = 10
DOT_PRIORITY = 1

# The syntax node a bracket belongs to, as far as layout cares (black reads `leaf.parent.type`).
ATOM, TRAILER, PARAMS, IMPORT, OTHER = 1, 2, 3, 4, 5

# Leaf flags: facts black derives from a leaf's ancestors.
ATTR_DOT = 1  # the dot of an attribute access (a delimiter after a closing bracket)
VARARG_CALL = 2  # `*`/`**` of a call argument (is_vararg within arglist/argument)
VARARG_DEF = 4  # `*`/`**` of a def parameter (is_vararg within typedargslist)
ARGLIST_COMMA = 8  # comma whose parent is an arglist or typedargslist
IN_ANNOTATION = 16  # inside a parameter or return annotation (is_part_of_annotation)
IN_RETURN = 32  # inside the return annotation (get_annotation_type == "return")
IMPORT_KW = 64  # the `import`/`from` starting an import statement
WITH_KW = 128  # the `with` starting a with statement
SLICE_WS = 256  # spacing depends on the subscript being complex (a slice colon and what follows it)
STICKY = 512  # invisible parentheses that, once made visible, black's second pass keeps visible

FEATURE_CALL = 1  # trailing commas after *args/**kwargs in calls (black Feature.TRAILING_COMMA_IN_CALL)
FEATURE_DEF = 2  # ... in def parameters (Feature.TRAILING_COMMA_IN_DEF)
FORCE_PARENS = 4  # black Feature.FORCE_OPTIONAL_PARENTHESES, the "second opinion"


class CannotSplit(Exception):
    """black `CannotSplit`/`CannotTransform`: this transform does not apply."""


class Leaf:
    """One token. `ws` is the spacing black's `whitespace()` gives it; `prefix` the spacing in use (split
    lines drop it on their first leaf). `depth` and the delimiter records are per-line state."""

    __slots__ = (
        "after",
        "before",
        "complex",
        "depth",
        "flags",
        "index",
        "opening",
        "orphan",
        "prefix",
        "role",
        "type",
        "value",
        "ws",
    )

    def __init__(self, type_: int, value: str, ws: str = "", before: int = 0, after: int = 0, flags: int = 0,
                 role: int = 0) -> None:
        self.type = type_
        self.value = value
        self.prefix = ws
        self.ws = ws
        self.depth = 0
        self.opening: Leaf | None = None
        self.role = role
        self.before = before
        self.after = after
        self.flags = flags
        self.orphan = False  # black: leaf.parent is None
        self.complex: Leaf | None = None  # SLICE_WS leaves: the `[` of their subscript if it is complex
        self.index = -1  # position in its logical line (-1: a comma black added)

    def __repr__(self) -> str:
        return f"Leaf({self.type}, {self.value!r})"


def synthetic_comma() -> Leaf:
    """A trailing comma black adds: it has no parent in the tree."""
    leaf = Leaf(COMMA, ",", after=COMMA_PRIORITY)
    leaf.orphan = True
    return leaf


class Line:
    """black `lines.Line` with its `BracketTracker`, for leaves without comments."""

    __slots__ = (
        "bdepth",
        "delims",
        "depth",
        "final",
        "first_omit",
        "for_depths",
        "inside",
        "invisible",
        "lambda_depths",
        "leaves",
        "magic",
        "previous",
        "split_rhs",
        "stack",
    )

    def __init__(self, depth: int, inside: bool = False) -> None:
        self.depth = depth
        self.leaves: list[Leaf] = []
        self.inside = inside  # black: inside_brackets
        self.split_rhs = False  # black: should_split_rhs
        self.magic: Leaf | None = None  # black: magic_trailing_comma
        self.bdepth = 0
        self.stack: list[Leaf] = []  # open brackets (black: bracket_match)
        self.delims: dict[Leaf, int] = {}
        self.invisible: list[Leaf] = []
        self.previous: Leaf | None = None
        self.for_depths: list[int] = []
        self.lambda_depths: list[int] = []
        self.first_omit = False  # its right-hand split took the first (omit-nothing) attempt
        self.final = ""  # its text, once `transform_line` kept it whole because it fits

    def append(self, leaf: Leaf, track: bool = False) -> None:
        """black `Line.append(preformatted=True, track_bracket=track)`: bracket-track inside brackets."""
        if self.inside or track:
            self.extend((leaf,))
        else:
            self.leaves.append(leaf)

    def extend(self, leaves) -> None:
        """Append and bracket-track leaves: black `BracketTracker.mark` for each, and the magic trailing comma
        check of `Line.append`. (With valid code, depth 0 means no bracket is open.)"""
        own = self.leaves
        stack, delims, invisible = self.stack, self.delims, self.invisible
        depth, previous = self.bdepth, self.previous
        for leaf in leaves:
            t = leaf.type
            if t in CLOSING and depth == 0:  # a bracket opened on an earlier line: not tracked
                if own and own[-1].type == COMMA and self.magic is None and self.has_magic_trailing_comma(leaf):
                    self.magic = leaf
                own.append(leaf)
                continue
            if t == NAME and self.for_depths and self.for_depths[-1] == depth and leaf.value == "in":
                depth -= 1
                self.for_depths.pop()
            elif t == COLON and self.lambda_depths and self.lambda_depths[-1] == depth:
                depth -= 1
                self.lambda_depths.pop()
            if t in CLOSING:
                depth -= 1
                leaf.opening = stack.pop()
                if not leaf.value:
                    invisible.append(leaf)
                if own and own[-1].type == COMMA and self.magic is None:
                    self.bdepth = depth
                    leaf.depth = depth
                    if self.has_magic_trailing_comma(leaf):
                        self.magic = leaf
            leaf.depth = depth
            if depth == 0:
                delim = leaf.before
                if delim == DOT_PRIORITY and previous is not None and previous.type not in CLOSING:
                    delim = 0  # is_split_before_delimiter: only a dot after a closing bracket
                if delim and previous is not None:
                    delims[previous] = delim
                elif leaf.after:
                    delims[leaf] = leaf.after
            if t in OPENING:
                stack.append(leaf)
                depth += 1
                if not leaf.value:
                    invisible.append(leaf)
            previous = leaf
            if t == NAME:
                if leaf.value == "lambda":
                    depth += 1
                    self.lambda_depths.append(depth)
                elif leaf.value == "for":
                    depth += 1
                    self.for_depths.append(depth)
            own.append(leaf)
        self.bdepth, self.previous = depth, previous

    def has_magic_trailing_comma(self, closing: Leaf) -> bool:
        """black `Line.has_magic_trailing_comma`, for a closing bracket right after a comma."""
        if closing.type == RBRACE:
            return True
        if closing.type == RSQB:
            return not (closing.role == TRAILER and not closing.orphan
                        and is_one_sequence_between(closing.opening, closing, self.leaves, LSQB))
        if self.is_import:
            return True
        return closing.opening is not None and not is_one_sequence_between(closing.opening, closing, self.leaves)

    @property
    def is_import(self) -> bool:
        return bool(self.leaves) and bool(self.leaves[0].flags & IMPORT_KW)

    @property
    def is_def(self) -> bool:
        return bool(self.leaves) and self.leaves[0].type == NAME and self.leaves[0].value == "def"

    @property
    def is_chained_assignment(self) -> bool:
        return sum(1 for leaf in self.leaves if leaf.type == EQUAL) > 1

    def text(self) -> str:
        """black `str(line)` without the newline."""
        leaves = self.leaves
        if not leaves:
            return ""
        first = leaves[0]
        return first.prefix + "    " * self.depth + first.value + "".join([leaf.prefix + leaf.value
                                                                           for leaf in leaves[1:]])

    def max_priority(self, exclude: Leaf | None = None) -> int:
        """black `BracketTracker.max_delimiter_priority`; 0 when there is none."""
        return max((p for leaf, p in self.delims.items() if leaf is not exclude), default=0)

    def count_priority(self, priority: int) -> int:
        return sum(1 for p in self.delims.values() if p == priority)


def is_one_sequence_between(opening: Leaf | None, closing: Leaf, leaves: list[Leaf], open_type: int = LPAR) -> bool:
    """black `nodes.is_one_sequence_between`: at most one comma (one argument list comma counts two)."""
    if opening is None or opening.type != open_type or closing.type != CLOSING_OF[open_type]:
        return False
    depth = closing.depth + 1
    try:
        start = next(i for i, leaf in enumerate(leaves) if leaf is opening)
    except StopIteration:
        return False
    commas = 0
    for leaf in leaves[start + 1 :]:
        if leaf is closing:
            break
        if leaf.depth == depth and leaf.type == COMMA:
            commas += 1
            if leaf.flags & ARGLIST_COMMA and not leaf.orphan:
                commas += 1
                break
    return commas < 2


def fits(line: Line, line_length: int) -> bool:
    """black `is_line_short_enough` (no multiline strings or comments reach the engine)."""
    return str_width(line.text()) <= line_length


def ensure_visible(leaf: Leaf) -> None:
    if leaf.type == LPAR:
        leaf.value = "("
    elif leaf.type == RPAR:
        leaf.value = ")"


# --- black's two passes ---------------------------------------------------------------------------


class FirstPass:
    """A logical line after black's first pass: its tokens, their values before it (it mutates them), the
    line as tracked and the lines it was split into."""

    __slots__ = ("initial", "leaves", "line", "lines")

    def __init__(self, leaves: list[Leaf], depth: int, features: int, line_length: int) -> None:
        self.leaves = leaves
        self.initial = [leaf.value for leaf in leaves]
        for index, leaf in enumerate(leaves):
            leaf.index = index
        self.line = Line(depth)
        self.line.extend(leaves)
        self.lines = transform_line(self.line, features, line_length)


def second_pass(first: FirstPass, features: int, line_length: int, rerun: bool) -> list[Line]:
    """black's forced second pass (`format_str` formats its own output again): the trailing commas the first
    pass added are magic now and the parentheses it made visible around conditional expressions are real.
    Without such changes the result is the first pass's, unless `rerun` (the file's features changed)."""
    leaves, initial, lines = first.leaves, first.initial, first.lines
    if not rerun and _second_pass_repeats_first(first):
        return lines
    again = _second_pass_leaves(leaves, initial, lines, rerun)
    if again is None:
        return lines
    line = Line(first.line.depth)
    line.extend(again)
    return transform_line(line, features, line_length)


def _second_pass_repeats_first(first: FirstPass) -> bool:
    """The common case where the second pass provably decides as the first: one bracket (the last visible
    one) exploded, one element per line (or more, but not the last), its trailing comma the only one added,
    by the right-hand split's first attempt or a def's left-hand split. Then the second pass finds no trailer to omit (the magic comma
    stops `generate_trailers_to_omit`), splits the same bracket, and its body explodes the same way."""
    leaves, initial, lines, statement = first.leaves, first.initial, first.lines, first.line
    if len(lines) < 3 or statement.magic is not None:
        return False
    if not (statement.first_omit or statement.is_def):
        return False
    added = _indices_after_added_commas(lines)
    if len(added) != 1 or any(leaf.flags & STICKY and leaf.value for line in lines for leaf in line.leaves):
        return False
    (closing_index,) = added
    closing = leaves[closing_index]
    opening = closing.opening
    if closing.type not in CLOSING or opening is None or not initial[closing_index]:
        return False
    opening_index = opening.index
    head, tail = lines[0].leaves, lines[-1].leaves
    if [leaf.index for leaf in head] != list(range(opening_index + 1)):
        return False
    if [leaf.index for leaf in tail] != list(range(closing_index, len(leaves))):
        return False
    body = [leaf.index for line in lines[1:-1] for leaf in line.leaves]
    if body != list(range(opening_index + 1, closing_index)) + [-1]:
        return False
    if lines[-2].leaves[0].index != _last_element_start(leaves, opening_index, closing_index):
        return False  # the last element split over lines: its comma, an added one, is a real one then
    return statement.is_def or not any(leaf.type in CLOSING and initial[leaf.index] for leaf in tail[1:])


def _last_element_start(leaves: list[Leaf], opening_index: int, closing_index: int) -> int:
    """Index of the first token of the last comma-separated element between a bracket pair. An element
    split over lines of its own is split again the same way by the second pass (same tokens, same
    depth), except the last: its trailing comma, added by the first pass, is a real one to the second.
    (A comma of a lambda's parameters counts here too: then no line starts there, which is safe.)"""
    depth = 0
    start = opening_index + 1
    for index in range(opening_index + 1, closing_index):
        kind = leaves[index].type
        if kind in OPENING:
            depth += 1
        elif kind in CLOSING:
            depth -= 1
        elif kind == COMMA and depth == 0:
            start = index + 1
    return start


def adds_def_vararg_comma(leaves: list[Leaf], lines: list[Line]) -> bool:
    """Whether the first pass gave a def's lone `*args`/`**kwargs` a trailing comma: black's second pass then
    detects Python 3.6+ syntax (`get_features_used`) and adds trailing commas after unpackings everywhere."""
    for closing in _indices_after_added_commas(lines):
        leaf = leaves[closing]
        if leaf.role == PARAMS and leaf.type == RPAR and leaf.opening is not None:
            start = leaves.index(leaf.opening)
            if any(inner.flags & VARARG_DEF for inner in leaves[start:closing]):
                return True
    return False


def _indices_after_added_commas(lines: list[Line]) -> set[int]:
    """Indices of the tokens right after each trailing comma black added (the brackets they close)."""
    found: set[int] = set()
    pending = False
    for line in lines:
        for leaf in line.leaves:
            if leaf.index < 0:
                pending = True
            elif pending:
                found.add(leaf.index)
                pending = False
    return found


def _second_pass_leaves(leaves: list[Leaf], initial: list[str], lines: list[Line], rerun: bool) -> list[Leaf] | None:
    """The tokens black's second pass reads from the first pass's lines: fresh, with the added trailing
    commas as real ones and sticky parentheses as the first pass left them; None if nothing changed."""
    commas_before = _indices_after_added_commas(lines)
    visible = {leaf.index for line in lines for leaf in line.leaves if leaf.flags & STICKY and leaf.value}
    if not commas_before and not visible and not rerun:
        return None
    fresh: list[Leaf] = []
    copies: dict[int, Leaf] = {}
    for index, old in enumerate(leaves):
        if index in commas_before:
            in_arglist = old.role in (PARAMS, OTHER) or (old.role == TRAILER and old.type == RPAR)
            fresh.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY, flags=ARGLIST_COMMA if in_arglist else 0))
        value = ("(" if old.type == LPAR else ")") if index in visible else initial[index]
        leaf = Leaf(old.type, value, old.ws, old.before, old.after, old.flags, old.role)
        leaf.opening = None if old.opening is None else copies.get(id(old.opening), old.opening)
        leaf.complex = None if old.complex is None else copies.get(id(old.complex), old.complex)
        leaf.index = index
        copies[id(old)] = leaf
        fresh.append(leaf)
    return fresh


# --- transform_line and the second opinion -------------------------------------------------------------


def transform_line(line: Line, features: int, line_length: int, line_str: str | None = None) -> list[Line]:
    """black `linegen.transform_line`: the line if it fits, else the first transform that applies."""
    if line_str is None:
        line_str = line.text()
    if not line.split_rhs and line.magic is None and str_width(line_str) <= line_length:
        line.final = line_str
        return [line]
    if line.is_def and not _funcdef_needs_rhs(line, line_length):
        transforms = (left_hand_split,)
    elif line.inside:
        transforms = (delimiter_split, rhs_with_omits)
    else:
        transforms = (rhs_with_omits,)
    for transform in transforms:
        try:
            return run_transformer(line, transform, features, line_length, line_str)
        except CannotSplit:
            continue
    return [line]


def run_transformer(line: Line, transform, features: int, line_length: int, line_str: str) -> list[Line]:
    """black `linegen.run_transformer`, with its FORCE_OPTIONAL_PARENTHESES second opinion: when a right-hand
    split left the optional parentheses invisible and its first line is still too long, try again keeping
    them, and take that if every line then fits."""
    optional_parens = [bracket for bracket in line.invisible if bracket.depth == 0]
    result: list[Line] = []
    for transformed in transform(line, features, line_length):
        text = transformed.text()
        if text == line_str:
            raise CannotSplit("unchanged")
        result.extend(transform_line(transformed, features, line_length, text))
    if (
        features & FORCE_PARENS
        or transform is not rhs_with_omits
        or not line.invisible
        or any(bracket.value for bracket in optional_parens)
        or fits(result[0], line_length)
        or any(leaf.orphan for leaf in line.leaves)
    ):
        return result
    second_opinion = run_transformer(_copy_line(line), transform, features | FORCE_PARENS, line_length, line_str)
    if all(fits(each, line_length) for each in second_opinion):
        return second_opinion
    return result


def _copy_line(line: Line) -> Line:
    """black `Line.clone` plus `append_leaves`: fresh leaves with their current values and black's
    whitespace, fully tracked; the originals lose their parent."""
    copy = Line(line.depth, line.inside)
    copy.split_rhs = line.split_rhs
    copy.magic = line.magic
    copies: dict[int, Leaf] = {}
    for old in line.leaves:
        leaf = Leaf(old.type, old.value, old.ws if copy.leaves else "", old.before, old.after, old.flags, old.role)
        leaf.complex = old.complex
        leaf.index = old.index
        if old.flags & SLICE_WS and copy.leaves:  # whitespace() reads is_complex_subscript from this line
            stack = copy.stack
            open_lsqb = stack[-1] if stack and stack[-1].type == LSQB and stack[-1].depth == copy.bdepth - 1 else None
            complex_here = old.complex is not None and open_lsqb is copies.get(id(old.complex))
            leaf.prefix = " " if complex_here else ""
        copies[id(old)] = leaf
        old.orphan = True
        copy.extend((leaf,))
    return copy


def _funcdef_needs_rhs(line: Line, line_length: int) -> bool:
    """black `should_split_funcdef_with_rhs`: a magic trailing comma in the return type, or a string return
    annotation that does not fit."""
    returns: list[Leaf] = []
    inside = False
    for leaf in line.leaves:
        if leaf.type == COLON:
            inside = False
        if inside:
            returns.append(leaf)
        if leaf.type == RARROW:
            inside = True
    result = Line(line.depth)
    tracked = leaves_inside_matching_brackets(returns)
    for leaf in returns:
        result.append(leaf, id(leaf) in tracked)
    first_visible = next((leaf for leaf in returns if leaf.value), None)
    return result.magic is not None or (
        first_visible is not None and first_visible.type == STRING and not fits(result, line_length)
    )


# --- bracket splits -------------------------------------------------------------------------------------

HEAD, BODY, TAIL = 1, 2, 3


def leaves_inside_matching_brackets(leaves: list[Leaf]) -> set[int]:
    """black `get_leaves_inside_matching_brackets`: ids of the leaves in complete bracket pairs."""
    ids: set[int] = set()
    stack: list[tuple[int, list[int]]] = []
    started = False
    for leaf in leaves:
        if not started:
            if leaf.type not in OPENING:
                continue
            started = True
        if leaf.type in OPENING:
            stack.append((CLOSING_OF[leaf.type], [id(leaf)]))
        elif leaf.type in CLOSING:
            if stack and leaf.type == stack[-1][0]:
                _, level = stack.pop()
                level.append(id(leaf))
                ids.update(level)
            else:
                break
        elif stack:
            stack[-1][1].append(id(leaf))
    return ids


def bracket_split_build_line(leaves: list[Leaf], original: Line, opening: Leaf, component: int) -> Line:
    """black `bracket_split_build_line`: a head, body or tail line; the body one level deeper, with a
    trailing comma where black adds one, flagged to explode when it is a collection or an import."""
    result = Line(original.depth)
    if component == BODY:
        result.inside = True
        result.depth += 1
        if leaves and _ensure_trailing_comma(leaves, original, opening) and leaves[-1].type != COMMA:
            leaves.append(synthetic_comma())
    if component == BODY:
        result.extend(leaves)
        if should_split_line(result, opening):
            result.split_rhs = True
    elif component == HEAD:
        tracked = leaves_inside_matching_brackets(leaves)
        for leaf in leaves:
            result.append(leaf, id(leaf) in tracked)
    else:
        result.leaves = leaves
    return result


def _ensure_trailing_comma(leaves: list[Leaf], original: Line, opening: Leaf) -> bool:
    """black `_ensure_trailing_comma`: imports always; a def's parameters when they have no comma."""
    if original.is_import:
        return True
    if not original.is_def or opening.value != "(":
        return False
    if any(leaf.type == COMMA and not leaf.flags & IN_ANNOTATION for leaf in leaves):
        return False
    with_parent = next((leaf for leaf in leaves if not leaf.orphan), None)
    return with_parent is None or not with_parent.flags & IN_RETURN


def should_split_line(line: Line, opening: Leaf) -> bool:
    """black `should_split_line`: explode a comma-delimited body of a collection or import (or one with a
    magic trailing comma) one element per line."""
    if opening.orphan or opening.value not in "[{(" or not line.leaves:
        return False
    last = line.leaves[-1]
    trailing_comma = last.type == COMMA
    priority = line.max_priority(last if trailing_comma else None)
    if not priority:
        return False
    return priority == COMMA_PRIORITY and (trailing_comma or opening.role in (ATOM, IMPORT))


def bracket_split_succeeded_or_raise(head: Line, body: Line, tail: Line) -> None:
    """black `bracket_split_succeeded_or_raise`: an empty body saves too little."""
    if not body.leaves:
        tail_len = len(tail.text().strip())
        if tail_len < 3:
            raise CannotSplit("not worth it")


def left_hand_split(line: Line, features: int, line_length: int) -> list[Line]:
    """black `left_hand_split`, for defs: split at the first opening bracket (the parameters)."""
    for leaf_type in (LPAR, LSQB):
        head: list[Leaf] = []
        body: list[Leaf] = []
        tail: list[Leaf] = []
        current = head
        matching: Leaf | None = None
        depth = 0
        for index, leaf in enumerate(line.leaves):
            if index == 2 and leaf.type == LSQB:
                depth += 1
            elif depth > 0:
                if leaf.type == LSQB:
                    depth += 1
                elif leaf.type == RSQB:
                    depth -= 1
            if (current is body and leaf.type in CLOSING and leaf.opening is matching and matching is not None
                    and not (leaf_type == LPAR and depth > 0)):
                ensure_visible(leaf)
                ensure_visible(matching)
                current = tail if body else head
            current.append(leaf)
            if current is head and leaf.type == leaf_type and not (leaf_type == LPAR and depth > 0):
                matching = leaf
                current = body
        if matching is not None and tail:
            break
    if matching is None or not tail:
        raise CannotSplit("no brackets")
    head_line = bracket_split_build_line(head, line, matching, HEAD)
    body_line = bracket_split_build_line(body, line, matching, BODY)
    tail_line = bracket_split_build_line(tail, line, matching, TAIL)
    bracket_split_succeeded_or_raise(head_line, body_line, tail_line)
    return [each for each in (head_line, body_line, tail_line) if each.leaves]


class RHS:
    """black `RHSResult`."""

    __slots__ = ("body", "closing", "head", "opening", "tail")

    def __init__(self, head: Line, body: Line, tail: Line, opening: Leaf, closing: Leaf) -> None:
        self.head, self.body, self.tail, self.opening, self.closing = head, body, tail, opening, closing


def first_right_hand_split(line: Line, omit: frozenset | set = frozenset()) -> RHS:
    """black `_first_right_hand_split`: split at the last opening bracket whose closing bracket is not
    omitted (an empty pair is skipped)."""
    tail: list[Leaf] = []
    body: list[Leaf] = []
    head: list[Leaf] = []
    current = tail
    opening = closing = None
    for leaf in reversed(line.leaves):
        if current is body and leaf is opening:
            current = head if body else tail
        current.append(leaf)
        if current is tail and leaf.type in CLOSING and leaf not in omit:
            opening, closing = leaf.opening, leaf
            current = body
    if opening is None or closing is None or not head:
        raise CannotSplit("no brackets")
    tail.reverse()
    body.reverse()
    head.reverse()
    head_line = bracket_split_build_line(head, line, opening, HEAD)
    body_line = bracket_split_build_line(body, line, opening, BODY)
    tail_line = bracket_split_build_line(tail, line, opening, TAIL)
    bracket_split_succeeded_or_raise(head_line, body_line, tail_line)
    return RHS(head_line, body_line, tail_line, opening, closing)


def right_hand_split(line: Line, features: int, line_length: int, omit: frozenset | set = frozenset()) -> list[Line]:
    """black `right_hand_split`."""
    return _maybe_split_omitting_optional_parens(first_right_hand_split(line, omit), line, features, line_length,
                                                 omit)


def _maybe_split_omitting_optional_parens(rhs: RHS, line: Line, features: int, line_length: int,
                                          omit: frozenset | set) -> list[Line]:
    """black `_maybe_split_omitting_optional_parens`: prefer splitting inside the right-hand side over
    wrapping it in parentheses, when black's rules allow."""
    if (
        not features & FORCE_PARENS
        and rhs.opening.type == LPAR
        and not rhs.opening.value
        and rhs.closing.type == RPAR
        and not rhs.closing.value
        and not line.is_import
        and can_omit_invisible_parens(rhs, line_length)
    ):
        omit = {rhs.closing, *omit}
        try:
            rhs_oop = first_right_hand_split(line, omit)
            if _prefer_split_rhs_oop_over_rhs(rhs_oop, rhs, line_length):
                return _maybe_split_omitting_optional_parens(rhs_oop, line, features, line_length, omit)
        except CannotSplit:
            if not line.is_chained_assignment and not can_be_split(rhs.body) and not fits(rhs.body, line_length):
                raise
    ensure_visible(rhs.opening)
    ensure_visible(rhs.closing)
    return [each for each in (rhs.head, rhs.body, rhs.tail) if each.leaves]


def _prefer_split_rhs_oop_over_rhs(rhs_oop: RHS, rhs: RHS, line_length: int) -> bool:
    """black `_prefer_split_rhs_oop_over_rhs` (stable branches)."""
    head = rhs.head.leaves
    if not (len(head) >= 2 and head[-2].type == EQUAL):
        return True  # not a split right after `=`
    if not any(leaf.type in BRACKETS for leaf in head[:-1]):
        return True  # the assignment target has no brackets
    if not fits(rhs.head, line_length - 1):
        return True
    if rhs.head.magic is not None:
        return True
    head_equals = sum(1 for leaf in head if leaf.type == EQUAL)
    oop_equals = sum(1 for leaf in rhs_oop.head.leaves if leaf.type == EQUAL)
    if head_equals > 1 and head_equals > oop_equals:
        return False
    for leaf in reversed(rhs_oop.head.leaves):
        if leaf.type == EQUAL:
            break
        if leaf.type in CLOSING:
            return True  # brackets after the `=`
    return oop_equals > 0 and fits(rhs_oop.head, line_length)


def can_be_split(line: Line) -> bool:
    """black `lines.can_be_split` (its `next` never advances, as there)."""
    leaves = line.leaves
    if len(leaves) < 2:
        return False
    if leaves[0].type == STRING and leaves[1].type == DOT:
        calls = dots = 0
        last = leaves[-1]
        for leaf in leaves[-2::-1]:
            if leaf.type in OPENING:
                if last.type not in CLOSING:
                    return False
                calls += 1
            elif leaf.type == DOT:
                dots += 1
            elif leaf.type == NAME:
                if not (last.type == DOT or last.type in OPENING):
                    return False
            elif leaf.type not in CLOSING:
                return False
            if dots > 1 and calls > 1:
                return False
    return True


def can_omit_invisible_parens(rhs: RHS, line_length: int) -> bool:
    """black `lines.can_omit_invisible_parens`: whether the body reads well without its optional parens."""
    line = rhs.body
    if not line.delims:
        return True
    priority = line.max_priority()
    count = line.count_priority(priority)
    if count > 1:
        return False
    if count == 1 and priority == COMMA_PRIORITY and rhs.head.leaves and rhs.head.leaves[0].flags & WITH_KW:
        return False
    if priority == DOT_PRIORITY:
        return True
    first, second = line.leaves[0], line.leaves[1]
    if first.type in OPENING and second.type not in CLOSING and _can_omit_opening_paren(line, first, line_length):
        return True
    penultimate, last = line.leaves[-2], line.leaves[-1]
    if last.type in (RPAR, RBRACE) or (last.type == RSQB and not last.orphan and last.role != TRAILER):
        if penultimate.type in OPENING:
            return False
        if _can_omit_closing_paren(line, last, line_length):
            return True
    return False


def _can_omit_opening_paren(line: Line, first: Leaf, line_length: int) -> bool:
    """black `_can_omit_opening_paren`: what follows the first bracket pair fits."""
    remainder = False
    length = 4 * line.depth
    for leaf in line.leaves:
        if leaf.type in CLOSING and leaf.opening is first:
            remainder = True
        if remainder:
            length += len(leaf.prefix) + len(leaf.value)
            if length > line_length:
                return False
            if leaf.type in OPENING:
                remainder = False
    return True


def _can_omit_closing_paren(line: Line, last: Leaf, line_length: int) -> bool:
    """black `_can_omit_closing_paren`: what precedes the last bracket pair fits, or has brackets."""
    length = 4 * line.depth
    seen_other_brackets = False
    for leaf in line.leaves:
        length += len(leaf.prefix) + len(leaf.value)
        if leaf is last.opening:
            if seen_other_brackets or length <= line_length:
                return True
        elif leaf.type in OPENING:
            seen_other_brackets = True
    return False


def generate_trailers_to_omit(line: Line, line_length: int) -> Iterator[set[Leaf]]:
    """black `generate_trailers_to_omit`: growing sets of trailing bracket pairs to keep on the last line.
    Lazy, as in black: lengths are read while the caller's splits mutate leaves."""
    omit: set[Leaf] = set()
    if line.magic is None:
        yield omit
    leaves = line.leaves
    length = 4 * line.depth
    opening: Leaf | None = None
    closing: Leaf | None = None
    inner: set[Leaf] = set()
    for index in range(len(leaves) - 1, -1, -1):
        leaf = leaves[index]
        length += len(leaf.prefix) + len(leaf.value)
        if length > line_length:
            break
        prev = leaves[index - 1] if index > 0 else None
        if opening is not None:
            if leaf is opening:
                opening = None
            elif leaf.type in CLOSING:
                if (prev is not None and prev.type == COMMA and leaf.opening is not None
                        and not is_one_sequence_between(leaf.opening, leaf, leaves)):
                    break  # never omit a pair with a magic trailing comma
                inner.add(leaf)
        elif leaf.type in CLOSING:
            if prev is not None and prev.type in OPENING:
                inner.add(leaf)  # an empty pair would fail a split
                continue
            if closing is not None:
                omit.add(closing)
                omit.update(inner)
                inner.clear()
                yield omit
            if (prev is not None and prev.type == COMMA and leaf.opening is not None
                    and not is_one_sequence_between(leaf.opening, leaf, leaves)):
                break
            if leaf.value:
                opening, closing = leaf.opening, leaf


def _prefix_lengths(line: Line) -> dict[int, int]:
    """How far into the line each leaf starts, in characters (black's `prefix_lengths`)."""
    lengths: dict[int, int] = {}
    length = 4 * line.depth
    for leaf in line.leaves:
        lengths[id(leaf)] = length
        length += len(leaf.prefix) + len(leaf.value)
    return lengths


def rhs_with_omits(line: Line, features: int, line_length: int) -> list[Line]:
    """black `right_hand_split_with_omits`: the first right-hand split, omitting ever more trailers, whose
    first line fits; else the split omitting nothing."""
    if not any(leaf.type in CLOSING for leaf in line.leaves):
        raise CannotSplit("no brackets")  # what the first attempt would find, without its set-up
    prefix_lengths = _prefix_lengths(line)  # measured before any attempt mutates a leaf
    first_lines: list[Line] | None = None
    first = True
    for omit in generate_trailers_to_omit(line, line_length):
        if omit:
            target = next((leaf.opening for leaf in reversed(line.leaves)
                           if leaf.type in CLOSING and leaf not in omit), None)
            if target is not None and target.value and prefix_lengths.get(id(target), 0) > line_length:
                continue  # its head could not fit
        lines = right_hand_split(line, features, line_length, omit)
        if first_lines is None and not omit:
            first_lines = lines
        if fits(lines[0], line_length):
            line.first_omit = first and not omit
            return lines
        first = False
    if first_lines is not None:
        return first_lines
    return right_hand_split(line, features, line_length)


def delimiter_split(line: Line, features: int, line_length: int) -> list[Line]:
    """black `delimiter_split` (under `dont_increase_indentation`): one line per delimiter of the highest
    priority, a trailing comma added after the last element of a comma list when safe."""
    if not line.leaves:
        raise CannotSplit("empty")
    last = line.leaves[-1]
    priority = line.max_priority(last)
    if not priority:
        raise CannotSplit("no delimiters")
    if priority == DOT_PRIORITY and line.count_priority(priority) == 1:
        raise CannotSplit("a single attribute")
    delims = line.delims
    segments: list[list[Leaf]] = [[]]
    for leaf in line.leaves:
        segments[-1].append(leaf)
        if delims.get(leaf) == priority:
            segments.append([])
    if not segments[-1]:
        segments.pop()
    result: list[Line] = []
    comma_safe = True
    for leaves in segments:
        current = Line(line.depth, line.inside)
        current.extend(leaves)
        # the lowest depth is 0 (each segment starts at depth 0): unpacking there needs the feature
        for leaf in leaves:
            if comma_safe and leaf.depth == 0 and not leaf.orphan:
                if leaf.flags & VARARG_DEF:
                    comma_safe = bool(features & FEATURE_DEF)
                elif leaf.flags & VARARG_CALL:
                    comma_safe = bool(features & FEATURE_CALL)
        result.append(current)
    last = result[-1]
    if comma_safe and priority == COMMA_PRIORITY and last.leaves[-1].type != COMMA:
        last.extend((synthetic_comma(),))
    for each in result:
        each.leaves[0].prefix = ""
    return result
