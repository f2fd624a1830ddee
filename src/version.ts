/** The tool's version (package.json's): `--version`, and the scope of results kept between runs. */
export const VERSION = '0.1.0';
