    for dirpath, _dirs, names in os.walk(root_dir, topdown=False, followlinks=True):
        rel = os.path.relpath(dirpath, root_dir) if (dirpath != root_dir) else ''
        cls = os.path.basename(rel) if leaf_only else rel.replace(os.path.sep, '_')
        for name in names:
            _stem, suffix = os.path.splitext(name)
            if suffix.lower() in extensions:
                paths.append(os.path.join(dirpath, name))
                targets.append(cls)
    if class_map is None:
        # index the classes
        found = set(targets)
        ordered = list(sorted(found, key=natural_key))
        class_map = {c: i for i, c in enumerate(ordered)}
