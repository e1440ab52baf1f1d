"""Tables across the boundary: DataFrames in as Arrow text columns (one
parser, the command line's, checks them), Arrow buffers out as
``pyarrow.Table``, and the report's CSV tables as DataFrames."""

from __future__ import annotations

import io
import os
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

#: What a table argument may be: a path, or anything with columns.
TableLike = Any


def to_arrow(obj: Any) -> pa.Table:
    """A pandas or polars DataFrame, a pyarrow Table or RecordBatch, or any
    object with the Arrow stream interface, as a ``pyarrow.Table``."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        return obj.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise TypeError(
        f"expected a path, a pandas or polars DataFrame or a pyarrow Table, got {type(obj).__name__}"
    )


def _clock_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Times of day and durations as the files write them: HH:MM:SS.mmm."""
    if pa.types.is_duration(column.type):
        ms = pc.cast(pc.cast(column, pa.duration("ms"), safe=False), pa.int64())
    else:
        ms = pc.cast(pc.cast(column, pa.time32("ms"), safe=False), pa.int32())
        ms = pc.cast(ms, pa.int64())

    def part(value: Any, width: int) -> Any:
        return pc.utf8_lpad(pc.cast(value, pa.string()), width=width, padding="0")

    hours = pc.divide(ms, 3_600_000)
    minutes = pc.divide(pc.subtract(ms, pc.multiply(hours, 3_600_000)), 60_000)
    rest = pc.subtract(ms, pc.add(pc.multiply(hours, 3_600_000), pc.multiply(minutes, 60_000)))
    seconds, millis = pc.divide(rest, 1000), pc.subtract(rest, pc.multiply(pc.divide(rest, 1000), 1000))
    clock = pc.binary_join_element_wise(part(hours, 2), part(minutes, 2), part(seconds, 2), ":")
    return pc.binary_join_element_wise(clock, part(millis, 3), ".")


def _text(column: pa.ChunkedArray) -> pa.Array:
    """A column as text in Arrow's large-string layout, nulls empty."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_time(kind) or pa.types.is_duration(kind):
        column = _clock_text(column)
    column = pc.fill_null(pc.cast(column, pa.large_string()), "")
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return array


def to_native(obj: TableLike, name: str) -> Any:
    """What the native module takes: a path as ``str``, else ``(name,
    column names, [(offsets, data)], rows)`` over the columns' own Arrow
    buffers (cast to text where they are not)."""
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj)
    kind = type(obj)
    name = f"{name} ({kind.__module__.split('.')[0]} {kind.__name__})"
    table = to_arrow(obj)
    names, columns = [], []
    for field, column in zip(table.schema, table.columns):
        array = _text(column)
        _, offsets, data = array.buffers()
        # A slice shares its parent's buffers: its offsets start at its own
        # first row, and point into the whole data buffer.
        offsets = offsets.slice(array.offset * 8, (len(array) + 1) * 8)
        names.append(field.name)
        columns.append((offsets, data if data is not None else b""))
    return (name, names, columns, table.num_rows)


_TYPES = {"string": pa.string(), "large_string": pa.large_string(), "int64": pa.int64()}


def from_native(columns: list) -> pa.Table:
    """The native module's columns, wrapped without a copy: each buffer
    was written once, straight into a ``bytes`` object."""
    arrays, fields = [], []
    for name, rows, (kind, nullable, validity, offsets, values) in columns:
        buffers = [pa.py_buffer(validity) if validity is not None else None]
        if offsets is not None:
            buffers.append(pa.py_buffer(offsets))
        buffers.append(pa.py_buffer(values))
        arrays.append(pa.Array.from_buffers(_TYPES[kind], rows, buffers))
        fields.append(pa.field(name, _TYPES[kind], nullable=nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def csv_frame(data: bytes, text_columns: tuple[str, ...] = ()) -> Any:
    """A CSV table the report wrote, as a pandas DataFrame; `text_columns`
    stay text (ids and times of day are not numbers)."""
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in text_columns},
        strings_can_be_null=False,
    )
    return pacsv.read_csv(io.BytesIO(data), convert_options=convert).to_pandas()
