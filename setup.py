"""Only what pyproject.toml cannot say: the top-level resources/ folder ships inside the wheel as the package
stylemixer.resources, next to the packages found under stylemixer/."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["stylemixer", "stylemixer.*"]) + ["stylemixer.resources"],
    package_dir={"stylemixer.resources": "resources"},
)
