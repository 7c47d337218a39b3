"""Column mapping for imports: a file's own column names → the inventory's field names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# The fields an import understands (file columns are matched case-insensitively).
FIELDS: tuple[str, ...] = (
    "code", "name", "class", "lon", "lat", "state",
    "competent_department", "competent_unit_code", "competent_unit_name",
    "owner", "owner_unit_code", "owner_unit_name",
    "maintainer", "maintainer_unit_code", "maintainer_unit_name",
    "initial_date", "change_date", "data_source", "remark",
)
REQUIRED: tuple[str, ...] = ("code", "class")
# The standard's Chinese attribute names, understood without a mapping.
CHINESE: dict[str, str] = {
    "部件编码": "code", "标识码": "code", "部件名称": "name", "名称": "name",
    "部件类别": "class", "类别代码": "class", "小类代码": "class", "经度": "lon", "纬度": "lat",
    "部件状态": "state", "状态": "state", "主管部门": "competent_department",
    "主管部门代码": "competent_unit_code", "主管部门名称": "competent_unit_name",
    "权属单位": "owner", "权属单位代码": "owner_unit_code", "权属单位名称": "owner_unit_name",
    "养护单位": "maintainer", "养护单位代码": "maintainer_unit_code",
    "养护单位名称": "maintainer_unit_name", "初始日期": "initial_date",
    "变更日期": "change_date", "数据来源": "data_source", "备注": "remark",
}


class MappingError(ValueError):
    pass


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """`["src=dst", ...]` → {src (lower-cased): dst}; dst must be a known field."""
    mapping: dict[str, str] = {}
    for item in items:
        src, sep, dst = item.partition("=")
        src, dst = src.strip().lower(), dst.strip().lower()
        if not sep or not src or not dst:
            raise MappingError(f"mapping {item!r} must look like source_column=field")
        if dst not in FIELDS:
            raise MappingError(f"mapping {item!r}: unknown field {dst!r}; fields: {', '.join(FIELDS)}")
        mapping[src] = dst
    return mapping


def resolve_columns(header: Sequence[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """field → column position in `header`. A mapped column wins; then a column named like
    the field; then the standard's Chinese name. Raises MappingError on a missing required
    field, a mapped column not in the file, or two columns for one field."""
    names = [h.strip().lower() for h in header]
    missing_src = [src for src in mapping if src not in names]
    if missing_src:
        raise MappingError(f"mapped columns not in the file: {', '.join(missing_src)}")
    found: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name in mapping:
            if mapping[name] in found:
                raise MappingError(f"two columns are mapped to {mapping[name]!r}")
            found[mapping[name]] = pos
    for pos, name in enumerate(names):
        field = None if name in mapping else (name if name in FIELDS else CHINESE.get(name))
        if field is not None and field not in found:
            found[field] = pos
    absent = [f for f in REQUIRED if f not in found]
    if absent:
        raise MappingError(f"no column for required field(s): {', '.join(absent)}")
    return found
