"""Model instances from rows read by SQL written once per process, converted as the ORM does.

On a hot path such as a join's user read, building the query with the ORM (the filter, its SQL,
its converters) cost several times what running it did (issue #14). A ``RowReader`` lists a
model's columns for a ``SELECT`` once and turns each row into an instance with the same
conversions the ORM applies (the database backend's, then the field's own), so the instance is
the one ``Model.objects.get()`` would give: on SQLite, for example, timestamps come back aware
and booleans as ``bool``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model


@dataclass(frozen=True)
class RowReader:
    """How to select a model's concrete fields (``columns``) and make instances of the rows."""

    model: type[Model]
    using: str
    columns: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]

    def instance(self, row: Sequence[Any]) -> Model:
        """The instance for one row whose first values are ``columns``, in order."""
        values = list(row[: len(self.attnames)])
        connection = connections[self.using]
        for index, converters, expression in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, expression, connection)
            values[index] = value
        return self.model.from_db(self.using, self.attnames, values)


@functools.cache
def row_reader(
    model: type[Model], table_alias: str, using: str, only: tuple[str, ...] | None = None
) -> RowReader:
    """The reader of ``model``'s rows selected from its table under ``table_alias``.

    ``only`` names the fields to select (as ``QuerySet.only`` does; the primary key is always
    selected); the instances defer the others, which are read on first use.
    """
    connection = connections[using]
    fields = [
        field
        for field in model._meta.concrete_fields
        if only is None or field.primary_key or field.name in only or field.attname in only
    ]
    quote = connection.ops.quote_name
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(table_alias)
        # What the ORM's compiler applies to a selected column (SQLCompiler.get_converters).
        # The backend's converters are methods of the connection this reader was made on; they
        # read settings (the time zone), never its database handle, so any thread may use them.
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if found:
            converters.append((index, tuple(found), expression))
    return RowReader(
        model=model,
        using=using,
        columns=", ".join(f"{table_alias}.{quote(field.column)}" for field in fields),
        attnames=tuple(field.attname for field in fields),
        converters=tuple(converters),
    )
