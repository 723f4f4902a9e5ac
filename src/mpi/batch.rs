//! Slurm batch scripts: the same tasks started by `srun` on a cluster's nodes, with the `--mpi=`
//! plugin that lets the ranks find each other; [`Slurm`](crate::slurm::Slurm) submits them.

use serde::{Serialize, de::DeserializeOwned};

use super::error::MpiError;
use super::launcher::{Implementation, Mpi};
use super::protocol::request_json;
use super::task::MpiTask;

impl Implementation {
    /// The `srun --mpi=` plugin that starts this MPI's ranks under Slurm: `pmix` for Open MPI
    /// (Debian 12's Open MPI 4.1 is built with PMIx, and its Slurm 22.05 has the `pmix` plugin,
    /// PMIx v4: tested here), `pmi2` for MPICH; none for an MPI it does not know.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::Implementation;
    /// assert_eq!(Implementation::OpenMpi.slurm_mpi_plugin(), Some("pmix"));
    /// ```
    pub fn slurm_mpi_plugin(&self) -> Option<&'static str> {
        match self {
            Implementation::OpenMpi => Some("pmix"),
            Implementation::Mpich => Some("pmi2"),
            Implementation::Other => None,
        }
    }
}

impl Mpi {
    /// A Slurm batch script that runs `task` on `nodes` nodes with `ranks_per_node` ranks each,
    /// through `srun` (Slurm's launcher, in place of `mpirun`), for at most `minutes`; submit it
    /// with `sbatch` (or [`Slurm::run`](crate::slurm::Slurm::run)). Rank 0's reply line ends up in
    /// the job's output file.
    ///
    /// `srun` is told how the ranks find each other (`--mpi=`, see
    /// [`Implementation::slurm_mpi_plugin`]): without it, on a cluster whose default is `none`,
    /// every rank would start alone as a world of one.
    ///
    /// # Errors
    /// [`MpiError::BadReply`] if the arguments do not serialize.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::{Mpi, tasks};
    /// # let mpi = Mpi::with_launcher("/bin/true")?;
    /// let script = mpi.batch_script(tasks::CALC_PI, 2, 16, &(10_000_000_000, 1), 10)?;
    /// assert!(script.contains("#SBATCH --nodes=2") && script.contains("srun "));
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn batch_script<
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    >(
        &self,
        task: MpiTask<A, R>,
        nodes: usize,
        ranks_per_node: usize,
        args: &A,
        minutes: u32,
    ) -> Result<String, MpiError> {
        let request = request_json(task, args)?;
        Ok(self.script(task.name(), nodes, ranks_per_node, &request, minutes))
    }

    /// [`batch_script`](Mpi::batch_script) once the request is JSON, compiled once in parlab.
    #[inline(never)]
    fn script(
        &self,
        name: &str,
        nodes: usize,
        ranks_per_node: usize,
        request: &str,
        minutes: u32,
    ) -> String {
        let quote = |text: &str| format!("'{}'", text.replace('\'', "'\\''"));
        let request = quote(request);
        let program = self.program.to_string_lossy();
        let program = if program.contains(|c: char| !(c.is_alphanumeric() || "/._-+".contains(c))) {
            quote(&program)
        } else {
            program.into_owned()
        };
        let plugin = self
            .implementation
            .slurm_mpi_plugin()
            .map_or(String::new(), |p| format!("--mpi={p} "));
        format!(
            "#!/bin/bash\n\
             #SBATCH --job-name=parlab-{name}\n\
             #SBATCH --nodes={nodes}\n\
             #SBATCH --ntasks-per-node={ranks_per_node}\n\
             #SBATCH --time={h:02}:{m:02}:00\n\
             # {ranks} ranks; every node must see this parlab-mpi (a shared file system) and the\n\
             # same MPI it was built with. Rank 0's reply is the PARLAB-MPI-REPLY line of the output.\n\
             srun {plugin}{program} {request}\n",
            ranks = nodes * ranks_per_node,
            h = minutes / 60,
            m = minutes % 60,
        )
    }
}
