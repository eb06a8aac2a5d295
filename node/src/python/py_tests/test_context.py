"""Which run state a step sees, and from where.

The context the runner gives a step it creates is a ContextVar: steps
created at the same time in two threads (or asyncio tasks) do not see each
other's.  The run's log level and secrets are process-wide instead, so
threads a step starts are filtered and masked like the step itself.
"""

import asyncio
import threading

from ipaascore import BaseStep as basestep_module
from ipaascore import _runner
from ipaascore.BaseStep import BaseStep, StepContext

from helpers import run, step_source


def _context(name):
    return StepContext(step_name=name, parameters={"who": name})


def test_steps_created_at_once_in_two_threads_keep_their_own_context():
    # Both threads have set their context before either creates its
    # instance's state (in BaseStep.__new__): with one shared variable, at
    # least one of them would see the other's.
    barrier = threading.Barrier(2, timeout=10)

    class Meeting(BaseStep):
        def __new__(cls, *args, **kwargs):
            barrier.wait()
            return super().__new__(cls)

        def __init__(self):
            self.new_step_parameter("who")
            # Read in __init__: the context set afterwards by the runner is
            # not there yet.
            self.seen_in_init = (self.get_name(), self.get_parameter("who"))

    seen = {}
    errors = []

    def create(name):
        try:
            seen[name] = _runner._instantiate(Meeting, _context(name)).seen_in_init
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors
    assert seen == {"first": ("first", "first"), "second": ("second", "second")}


def test_steps_created_by_interleaved_asyncio_tasks_keep_their_own_context():
    class Plain(BaseStep):
        def __init__(self):
            self.name_in_init = self.get_name()

    async def create(name, others_turn):
        with basestep_module._creating_with(_context(name)):
            await others_turn  # the other task sets its context meanwhile
            return Plain().name_in_init

    async def both():
        first_waits = asyncio.Event()
        second_waits = asyncio.Event()

        async def set_then(event):
            await asyncio.sleep(0)
            event.set()

        return await asyncio.gather(
            create("first", asyncio.ensure_future(first_waits.wait())),
            create("second", asyncio.ensure_future(second_waits.wait())),
            set_then(first_waits),
            set_then(second_waits),
        )

    first, second, _, _ = asyncio.run(both())
    assert (first, second) == ("first", "second")


def test_the_context_is_given_only_to_steps_created_by_the_runner():
    # A step that builds helper steps: the one built in __init__ is part of
    # the runner's creation and shares the context; the one built in
    # execute() is the step code's own and gets an empty context, as does a
    # step created afterwards outside any run.
    source = step_source(
        """
        class Helper(BaseStep):
            def __init__(self):
                pass

        class Outer(BaseStep):
            def __init__(self):
                self.in_init = Helper()

            def execute(self):
                in_execute = Helper()
                self.save_data_for_next_step(
                    [self.get_name(), self.in_init.get_name(), in_execute.get_name()])
        """
    )
    response = run(source, class_name="Outer", step_name="outer-in-app")
    assert response["ok"], response
    assert response["json"] == '["outer-in-app", "outer-in-app", "Helper"]'
    assert basestep_module._creation_context.get() is None


def test_records_from_a_thread_the_step_starts_are_filtered_and_masked(host):
    source = step_source(
        """
        import threading

        class Threaded(BaseStep):
            def execute(self):
                password = self.get_parameter("password")

                def work():
                    self.logger.debug("not at this log level")
                    self.logger.info("worker connects with %s", password)

                worker = threading.Thread(target=work)
                worker.start()
                worker.join()
        """
    )
    response = run(source, parameters={"password": "${config.pw}"}, config={"pw": "s3cr3t-pw"},
                   secret_config=["pw"], log_level="INFO")
    assert response["ok"], response
    assert host.messages() == ["worker connects with ******"]


def test_generate_report_follows_the_application():
    import pickle
    from helpers import probe
    assert pickle.loads(probe("self.generate_report", generate_report=True)["pickle"]) is True
    assert pickle.loads(probe("self.generate_report")["pickle"]) is False
