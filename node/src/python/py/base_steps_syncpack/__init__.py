"""The Base Steps pack, shipped with every node and importable by every
runner: steps for REST and GraphQL queries, MySQL and MS-SQL, commands
over SSH, the shared cache and the step template, written for this project
from the original product's descriptions.  Steps live in
``base_steps_syncpack.steps.<File>`` (class named like the file) so packs
can subclass them; ``util`` holds helpers."""

NAME = "base_steps_syncpack"
VERSION = "1.0.0"
