"""The clause library as data: what facilitators maintain, read by the engine, never code.

``model`` holds the loaded shapes (dated parameters, sectors, fragments, the CCAG table);
``load`` reads a library folder or one of its releases; ``fragments`` parses clause fragments
and says which ones a market uses; ``store`` keeps the locks and the immutable copies of
every release.
"""

from drafting.library.fragments import (
    direct_includes,
    drafted_fragments,
    included_ids,
    parse_fragment,
    parse_fragment_bytes,
)
from drafting.library.load import default_root, load_library
from drafting.library.model import (
    CCAG_ETATS,
    CONSIDERATION_TYPES,
    CRITERION_FRAGMENT,
    CRITERION_TYPE,
    FRAGMENT_ID,
    LIBRARY_ENV,
    PIECES,
    RELEASE,
    SEMVER,
    STATUTS,
    Fragment,
    Library,
    Parameter,
    Sector,
)
from drafting.library.store import (
    DATA_FILES,
    LOCK_FILE,
    VERSIONS_DIR,
    Change,
    Source,
    current_lock,
    data_store_path,
    fragment_store_path,
    pending_changes,
    read_lock,
    release_versions,
    released_lock,
    version_key,
)

__all__ = [
    "CCAG_ETATS", "CONSIDERATION_TYPES", "CRITERION_FRAGMENT", "CRITERION_TYPE", "FRAGMENT_ID", "LIBRARY_ENV", "PIECES",
    "RELEASE", "SEMVER", "STATUTS", "Fragment", "Library", "Parameter", "Sector", "default_root", "load_library",
    "direct_includes", "drafted_fragments", "included_ids", "parse_fragment", "parse_fragment_bytes", "DATA_FILES",
    "LOCK_FILE", "VERSIONS_DIR", "Change", "Source", "current_lock", "data_store_path", "fragment_store_path",
    "pending_changes", "read_lock", "release_versions", "released_lock", "version_key",
]
